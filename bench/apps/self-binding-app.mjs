// The benchmark service that binds its own port (PORT on 127.0.0.1): used for
// the naive kill-and-respawn peer and, in cluster mode, for PM2. Answers with
// its pid; on SIGTERM/SIGINT stops accepting and exits once requests are done.
import http from 'node:http';

const port = Number(process.env.PORT);
const server = http.createServer((req, res) => res.end(`${process.pid}\n`));
server.keepAliveTimeout = 500;
server.listen(port, '127.0.0.1', () => console.log(`listening on ${port}`));
const shutdown = () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections?.();
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
