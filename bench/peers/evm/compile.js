// node compile.js Workloads.sol OUT.json: each contract's deployed bytecode (hex).
const fs = require('fs');
const solc = require('solc');
const [src, out] = process.argv.slice(2);
const input = {
  language: 'Solidity',
  sources: { 'Workloads.sol': { content: fs.readFileSync(src, 'utf8') } },
  settings: { optimizer: { enabled: true, runs: 200 }, evmVersion: 'cancun',
              outputSelection: { '*': { '*': ['evm.deployedBytecode.object'] } } },
};
const r = JSON.parse(solc.compile(JSON.stringify(input)));
for (const e of r.errors || []) if (e.severity === 'error') { console.error(e.formattedMessage); process.exit(1); }
const codes = {};
for (const [name, c] of Object.entries(r.contracts['Workloads.sol'])) codes[name] = c.evm.deployedBytecode.object;
fs.writeFileSync(out, JSON.stringify(codes, null, 1));
console.error('solc ' + solc.version() + ': ' + Object.keys(codes).join(', '));
