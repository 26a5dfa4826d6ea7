import { describe, expect, it } from "vitest";
import { describeMs, parseApprovalTimeout, parseWindow } from "./duration.ts";

describe("parseWindow", () => {
  it.each([
    ["second", 1000],
    ["minute", 60_000],
    ["hour", 3_600_000],
    ["day", 86_400_000],
    ["90s", 90_000],
    ["15m", 900_000],
    ["1h30m", 5_400_000],
    ["1.5h", 5_400_000],
    ["1500ms", 1500],
    ["720h", 2_592_000_000],
    [60, 60_000],
    [2_592_000, 2_592_000_000],
  ] as const)("%s is %d ms", (value, ms) => {
    expect(parseWindow(value)).toEqual({ ok: true, ms });
  });

  it("names the grammar for what is not a window", () => {
    expect(parseWindow("fortnight")).toEqual({
      ok: false,
      message: '"fortnight" is not a window (use second|minute|hour|day, a duration like 90s, or seconds)',
    });
    for (const bad of ["1d", "Minute", "-5s", "5", "", 1.5, -1, null, true, "5 s"]) expect(parseWindow(bad).ok).toBe(false);
    expect(parseWindow("60")).toMatchObject({ message: expect.stringContaining("write the number 60 or 60s") });
  });

  it("bounds windows to 1s..720h", () => {
    expect(parseWindow("999ms")).toMatchObject({ ok: false, message: expect.stringContaining("from 1s to 720h") });
    expect(parseWindow(0)).toMatchObject({ ok: false });
    expect(parseWindow("721h")).toMatchObject({ ok: false, message: expect.stringContaining("from 1s to 720h") });
    expect(parseWindow(2_592_001)).toMatchObject({ ok: false });
  });

  it("rounds a sub-millisecond rest up (the stricter window)", () => {
    expect(parseWindow("1.0001s")).toEqual({ ok: true, ms: 1001 });
  });
});

describe("parseApprovalTimeout", () => {
  it("accepts durations from 1s to 24h and nothing else", () => {
    expect(parseApprovalTimeout("10m")).toEqual({ ok: true, ms: 600_000 });
    expect(parseApprovalTimeout("24h")).toEqual({ ok: true, ms: 86_400_000 });
    expect(parseApprovalTimeout("1s")).toEqual({ ok: true, ms: 1000 });
    expect(parseApprovalTimeout("24h1s")).toMatchObject({ ok: false, message: expect.stringContaining("from 1s to 24h") });
    expect(parseApprovalTimeout("500ms")).toMatchObject({ ok: false });
    expect(parseApprovalTimeout(600)).toMatchObject({ ok: false, message: expect.stringContaining("not a duration") });
    expect(parseApprovalTimeout("minute")).toMatchObject({ ok: false });
  });
});

describe("describeMs", () => {
  it("reads windows back the way people write them", () => {
    expect(describeMs(60_000)).toBe("minute");
    expect(describeMs(90_000)).toBe("90s");
    expect(describeMs(7_200_000)).toBe("2h");
    expect(describeMs(1500)).toBe("1500ms");
  });
});
