// TEST-ONLY stand-in for the worker-provided module '@azure/functions-core' (mechanics.md §6).
// It records registerFunction(metadata, handler) so a test can assert what the built app registers
// at load under plain node. It relies on the worker's internal API: keep it to registration-shape tests.
const Module = require('module');
const registrations = [];
let model;
const core = {
  version: 'fake',
  registerFunction(metadata, callback) {
    registrations.push({ metadata, callback });
    return { dispose() {} };
  },
  setProgrammingModel(m) { model = m; },
  getProgrammingModel() { return model; },
  registerHook() { return { dispose() {} }; },
  log() {},
};
globalThis.__fakeFunctionsCore = { registrations, get model() { return model; } };
const originalLoad = Module._load;
Module._load = function (request, ...rest) {
  return request === '@azure/functions-core' ? core : originalLoad.call(this, request, ...rest);
};
