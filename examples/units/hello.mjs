// A tiny socket-activated service: serves HTTP on the listening socket it was given
// at fd 3 (LISTEN_FDS=1) instead of binding a port itself, and drains on SIGTERM.
import http from 'node:http';

if (process.env.LISTEN_PID !== String(process.pid) || process.env.LISTEN_FDS !== '1') {
  console.error('expected exactly one socket by LISTEN_FDS; run me under the launcher');
  process.exit(2);
}

const server = http.createServer((req, res) => {
  res.end(req.url === '/healthz' ? 'ok\n' : `hello from pid ${process.pid}\n`);
});
server.listen({ fd: 3 });

// Stop accepting, let in-flight requests finish, then exit 0 (a clean stop).
process.once('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
});
