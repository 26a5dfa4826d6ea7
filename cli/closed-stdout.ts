/**
 * `mcp-warden ... | head` closes stdout early: exit quietly as other CLIs do, not with
 * an EPIPE stack trace.
 */
export function exitQuietlyWhenStdoutCloses(): void {
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(0);
    throw error;
  });
}
