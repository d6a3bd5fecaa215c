#!/usr/bin/env node
// The CRI client of tests/engines/cri.bats: what crictl does for the calls the
// suite makes (crictl is not packaged in Debian 12).
//
//   cri-client.js --socket SOCK METHOD [JSON]
//       One CRI call (RuntimeService or ImageService, runtime.v1) with the
//       request given as JSON (field names as in cri-api.proto).  Prints the
//       response as JSON (bytes fields as UTF-8 text) and exits 0; on a gRPC
//       error prints "CODE_NAME: details" on stderr and exits 1.
//
//   cri-client.js --socket SOCK serve PATH
//       The same calls for many clients without a node start-up each (about
//       2 s of a loaded 2-core machine): an HTTP server on the unix socket
//       PATH; POST /METHOD with the request JSON as body answers 200 and the
//       response JSON, or 502 and "CODE_NAME: details".  The suite calls it
//       with curl --unix-socket.  Runs until SIGTERM.
//
//   cri-client.js --socket SOCK exec-stream JSON [--resize ROWSxCOLS]
//           [--expect TEXT | --send TEXT]...
//       Exec (the streaming one): asks for the exec URL with the ExecRequest
//       JSON, connects to containerd's streaming server over WebSocket
//       (subprotocol v4.channel.k8s.io, what kubectl exec speaks), sends the
//       terminal size, then plays the dialogue: --expect waits until the
//       output so far contains TEXT, --send writes TEXT to the process's
//       stdin (\n, \r, \t and \\ are unescaped).  Without a dialogue, and
//       when the request asks for stdin, this process's stdin is forwarded.
//       stdout and stderr of the process go to this process's stdout and
//       stderr; the exit status is the process's.
//
// Knob: CRI_TIMEOUT (seconds one call or one --expect may take, default 60).
'use strict';

const fs = require('fs');
const http = require('http');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const WebSocket = require('ws');

const TIMEOUT_MS = 1000 * Number(process.env.CRI_TIMEOUT || 60);

function die(msg) {
  process.stderr.write(`cri-client: ${msg}\n`);
  process.exit(2);
}

function loadServices(socket) {
  const def = protoLoader.loadSync(path.join(__dirname, 'cri-api.proto'), {
    keepCase: true,
    longs: Number,
    enums: String,
    defaults: true,
  });
  const api = grpc.loadPackageDefinition(def).runtime.v1;
  const creds = grpc.credentials.createInsecure();
  const target = `unix://${socket}`;
  return {
    runtime: new api.RuntimeService(target, creds),
    image: new api.ImageService(target, creds),
  };
}

function call(services, method, request) {
  const svc = typeof services.runtime[method] === 'function' ? services.runtime : services.image;
  if (typeof svc[method] !== 'function') return Promise.reject(new Error(`unknown CRI method ${method}`));
  return new Promise((resolve, reject) => {
    svc[method](request, { deadline: Date.now() + TIMEOUT_MS }, (err, resp) => {
      if (err) reject(err);
      else resolve(resp);
    });
  });
}

// Bytes fields (ExecSync's stdout and stderr) as text.
function toJSON(obj) {
  return JSON.stringify(
    obj,
    (k, v) => (v && v.type === 'Buffer' && Array.isArray(v.data) ? Buffer.from(v.data).toString('utf8') : v),
    2,
  );
}

function unescape(s) {
  return s.replace(/\\(.)/g, (m, c) => ({ n: '\n', r: '\r', t: '\t', '\\': '\\' })[c] ?? m);
}

// The streaming protocol's channels (k8s.io remotecommand, v4).
const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const ERROR = 3;
const RESIZE = 4;

// The exit status carried by the v4 error channel: a metav1.Status, Success
// or Failure with an ExitCode cause.
function exitStatusOf(statusJSON) {
  let st;
  try {
    st = JSON.parse(statusJSON);
  } catch (e) {
    process.stderr.write(`cri-client: exec error: ${statusJSON}\n`);
    return 126;
  }
  if (st.status === 'Success') return 0;
  const cause = ((st.details || {}).causes || []).find((c) => c.reason === 'ExitCode');
  if (cause) return Number(cause.message);
  process.stderr.write(`cri-client: exec failed: ${st.message || statusJSON}\n`);
  return 126;
}

async function execStream(services, request, opts) {
  const resp = await call(services, 'Exec', request);
  const ws = new WebSocket(resp.url, ['v4.channel.k8s.io'], { handshakeTimeout: TIMEOUT_MS });
  let output = '';
  let status = null;
  let waiter = null;
  const wake = () => {
    if (waiter) waiter();
  };
  const closed = new Promise((resolve, reject) => {
    ws.on('close', resolve);
    ws.on('error', reject);
  });
  ws.on('message', (data) => {
    const buf = Buffer.from(data);
    if (buf.length < 1) return;
    const payload = buf.subarray(1);
    switch (buf[0]) {
      case STDOUT:
        process.stdout.write(payload);
        output += payload.toString('utf8');
        break;
      case STDERR:
        process.stderr.write(payload);
        output += payload.toString('utf8');
        break;
      case ERROR:
        if (payload.length) status = (status || '') + payload.toString('utf8');
        break;
      default:
        break;
    }
    wake();
  });
  ws.on('close', wake);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const send = (channel, data) => ws.send(Buffer.concat([Buffer.from([channel]), Buffer.from(data)]));
  if (opts.resize) send(RESIZE, JSON.stringify({ Width: opts.resize.cols, Height: opts.resize.rows }));
  for (const step of opts.dialogue) {
    if (step.send !== undefined) {
      send(STDIN, step.send);
      continue;
    }
    const deadline = Date.now() + TIMEOUT_MS;
    while (!output.includes(step.expect)) {
      if (ws.readyState === WebSocket.CLOSED) die(`the stream ended before ${JSON.stringify(step.expect)}`);
      if (Date.now() > deadline) die(`timed out waiting for ${JSON.stringify(step.expect)}`);
      await new Promise((resolve) => {
        waiter = resolve;
        setTimeout(resolve, 200);
      });
      waiter = null;
    }
  }
  if (opts.dialogue.length === 0 && request.stdin) {
    process.stdin.on('data', (d) => send(STDIN, d));
  }
  const timer = setTimeout(() => die('timed out waiting for the exec to end'), TIMEOUT_MS);
  await closed;
  clearTimeout(timer);
  process.stdin.destroy();
  if (status === null) die('the stream ended without an exit status');
  return exitStatusOf(status);
}

function grpcError(err) {
  const code = Object.keys(grpc.status).find((k) => grpc.status[k] === err.code) || err.code;
  return `${code}: ${err.details || err.message}`;
}

function serve(services, sockPath) {
  const server = http.createServer((req, res) => {
    const method = decodeURIComponent(req.url.replace(/^\//, ''));
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      let reply;
      let code = 200;
      try {
        const body = Buffer.concat(chunks).toString('utf8');
        const resp = await call(services, method, body ? JSON.parse(body) : {});
        reply = `${toJSON(resp)}\n`;
      } catch (err) {
        code = 502;
        reply = `${err.code !== undefined ? grpcError(err) : err.message}\n`;
      }
      res.writeHead(code, { 'Content-Type': code === 200 ? 'application/json' : 'text/plain' });
      res.end(reply);
    });
  });
  fs.rmSync(sockPath, { force: true });
  server.listen(sockPath);
  process.on('SIGTERM', () => {
    server.close();
    fs.rmSync(sockPath, { force: true });
    process.exit(0);
  });
  return new Promise(() => {});
}

async function main(argv) {
  let socket = null;
  const args = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--socket') socket = argv[++i];
    else args.push(argv[i]);
  }
  if (!socket || args.length < 1) {
    die('usage: cri-client.js --socket SOCK METHOD [JSON] | serve PATH | exec-stream JSON [...]');
  }
  const services = loadServices(socket);
  const method = args[0];
  if (method === 'serve') {
    if (args.length !== 2) die('usage: cri-client.js --socket SOCK serve PATH');
    return serve(services, args[1]);
  }
  let request = {};
  if (args.length > 1) {
    try {
      request = JSON.parse(args[1]);
    } catch (e) {
      die(`the request is not JSON: ${e.message}`);
    }
  }
  if (method === 'exec-stream') {
    const opts = { resize: null, dialogue: [] };
    for (let i = 2; i < args.length; i++) {
      const val = args[i + 1];
      if (val === undefined) die(`${args[i]} needs a value`);
      if (args[i] === '--resize') {
        const m = /^(\d+)x(\d+)$/.exec(val);
        if (!m) die(`--resize wants ROWSxCOLS, not ${val}`);
        opts.resize = { rows: Number(m[1]), cols: Number(m[2]) };
      } else if (args[i] === '--expect') {
        opts.dialogue.push({ expect: unescape(val) });
      } else if (args[i] === '--send') {
        opts.dialogue.push({ send: unescape(val) });
      } else {
        die(`unknown exec-stream option ${args[i]}`);
      }
      i++;
    }
    return execStream(services, request, opts);
  }
  try {
    const resp = await call(services, method, request);
    process.stdout.write(`${toJSON(resp)}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`${err.code !== undefined ? grpcError(err) : err.message}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (rc) => process.exit(rc),
  (err) => die(err.stack || String(err)),
);
