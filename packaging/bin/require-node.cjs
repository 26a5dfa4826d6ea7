"use strict";
// Loaded first by the package's commands, in syntax every Node.js parses: on a Node.js
// older than the package's `engines.node` (">=X.Y.Z") the command prints one line naming
// the version it needs and exits 1, instead of failing later with a stack trace from an
// API the older Node lacks.
var required = require("../package.json").engines.node.replace(/^>=\s*/, "");

function parts(version) {
  return version.replace(/^v/, "").split(".").map(Number);
}

function older(version, than) {
  var a = parts(version);
  var b = parts(than);
  for (var i = 0; i < 3; i++) {
    if ((a[i] || 0) !== (b[i] || 0)) return (a[i] || 0) < (b[i] || 0);
  }
  return false;
}

module.exports = function requireNode(command) {
  if (older(process.version, required)) {
    process.stderr.write(command + ": needs Node.js " + required + " or later; this is Node.js " + process.version + "\n");
    process.exit(1);
  }
};
