// The benchmark service under Server::Starter: listens on the fd start_server
// passes in SERVER_STARTER_PORT ("127.0.0.1:PORT=FD"), answers with its pid,
// and on SIGTERM stops accepting and exits once in-flight requests are done.
import http from 'node:http';

const spec = process.env.SERVER_STARTER_PORT ?? '';
const fd = Number(spec.split(';')[0].split('=')[1]);
if (!Number.isInteger(fd)) {
  console.error(`SERVER_STARTER_PORT is not "ADDR=FD": ${JSON.stringify(spec)}`);
  process.exit(2);
}
const server = http.createServer((req, res) => res.end(`${process.pid}\n`));
server.keepAliveTimeout = 500;
server.listen({ fd }, () => console.log(`serving on fd ${fd}`));
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections?.();
});
