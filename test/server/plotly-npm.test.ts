/**
 * The unmodified npm `plotly` 1.0.6 client against plotwire: create a plot over HTTPS (with a test
 * certificate), stream to it with Node's http, read it back with getFigure.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cli, serverProcess, tempDir, type ServerProcess } from './helpers.js';

const work = tempDir();
let server: ServerProcess;
let apiKey: string;
let token: string;

beforeAll(async () => {
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout', join(work.dir, 'key.pem'), '-out', join(work.dir, 'cert.pem'),
  ], { stdio: 'ignore' });
  const data = join(work.dir, 'data');
  server = await serverProcess(data, ['--tls-cert', join(work.dir, 'cert.pem'), '--tls-key', join(work.dir, 'key.pem'), '--stream-port', '0']);
  apiKey = server.logs.find((l) => l.event === 'default-user')?.apiKey as string;
  token = (JSON.parse(execFileSync(process.execPath, [cli, 'token', 'create', '--user', 'plotwire', '--data', data, '--json'], { encoding: 'utf8' })) as { token: string }).token;
});
afterAll(async () => {
  await server.stop();
  work.remove();
});

it('creates, streams to and reads back a plot like it did with plot.ly', () => {
  expect(server.url).toMatch(/^https:/);
  const streamUrl = new URL(server.logs.find((l) => l.event === 'listening')?.streamUrl as string);
  // The client's own example, pointed at this server: its JSON goes in the form without URL-encoding.
  const script = `
    const Plotly = require('plotly')({ username: 'plotwire', apiKey: ${JSON.stringify(apiKey)}, host: '127.0.0.1', port: ${server.port} });
    const data = [{ x: [], y: [], stream: { token: ${JSON.stringify(token)}, maxpoints: 200 } }];
    const graphOptions = { fileopt: 'overwrite', filename: 'heart & rate = 100%' };
    Plotly.plot(data, graphOptions, (err, msg) => {
      if (err) { console.error('plot failed', err); process.exit(1); }
      const stream = Plotly.stream({ token: ${JSON.stringify(token)}, port: ${streamUrl.port} }, (err, res) => {
        if (err) { console.error('stream failed', err); process.exit(1); }
        const fileId = msg.url.split('/').pop();
        Plotly.getFigure('plotwire', fileId, (err, figure) => {
          if (err) { console.error('getFigure failed', err); process.exit(1); }
          console.log(JSON.stringify({ msg, res, figure }));
        });
      });
      let i = 0;
      const timer = setInterval(() => {
        stream.write(JSON.stringify({ x: i, y: i * i }) + '\\n');
        if (++i === 10) { clearInterval(timer); stream.end(); }
      }, 20);
    });`;
  const file = join(work.dir, 'client.cjs');
  writeFileSync(file, script);
  const run = spawnSync(process.execPath, [file], {
    encoding: 'utf8',
    env: { ...process.env, NODE_PATH: join(import.meta.dirname, '../../node_modules'), NODE_EXTRA_CA_CERTS: join(work.dir, 'cert.pem') },
    timeout: 20_000,
  });
  expect(run.status, run.stderr).toBe(0);
  const out = JSON.parse(run.stdout) as {
    msg: { streamstatus: string; url: string; filename: string; error: string };
    res: { statusCode: number; msg: string };
    figure: { data: { x: number[]; y: number[]; stream: { maxpoints: number } }[] };
  };
  expect(out.msg).toMatchObject({ streamstatus: 'All Streams Go!', filename: 'heart & rate = 100%', error: '' });
  expect(out.msg.url).toMatch(new RegExp(`^https://127\\.0\\.0\\.1:${server.port}/~plotwire/\\d+$`));
  expect(out.res).toMatchObject({ statusCode: 200, msg: 'healthy endpoint disconnect' });
  expect(out.figure.data[0]).toMatchObject({ x: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], y: [0, 1, 4, 9, 16, 25, 36, 49, 64, 81], stream: { maxpoints: 200 } });
});
