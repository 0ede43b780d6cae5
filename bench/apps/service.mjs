// The one benchmark service every peer runs (so a difference between peers is the
// peer's, not the service's): a Node HTTP server that answers with its pid. It
// serves on whatever socket its supervisor gives it, in this order:
//   LISTEN_FDS (the launcher, systemd)          -> fd 3, and READY=1 when NOTIFY_SOCKET is set
//   SERVER_STARTER_PORT="127.0.0.1:PORT=FD"     -> that fd (Server::Starter)
//   PORT                                        -> binds 127.0.0.1:PORT itself (naive, PM2 cluster)
// On SIGTERM/SIGINT it stops accepting and exits once in-flight requests are done.
import http from 'node:http';
import { listeners, notify } from '../../dist/src/service/index.js';

function listenTarget() {
  const passed = listeners();
  if (passed.length > 0) return { fd: passed[0].fd };
  const starter = process.env.SERVER_STARTER_PORT;
  if (starter) {
    const fd = Number(starter.split(';')[0].split('=')[1]);
    if (!Number.isInteger(fd)) throw new Error(`SERVER_STARTER_PORT is not "ADDR=FD": ${JSON.stringify(starter)}`);
    return { fd };
  }
  const port = Number(process.env.PORT);
  if (!Number.isInteger(port) || port <= 0) throw new Error('no socket: set LISTEN_FDS, SERVER_STARTER_PORT or PORT');
  return { port, host: '127.0.0.1' };
}

const server = http.createServer((req, res) => res.end(`${process.pid}\n`));
server.keepAliveTimeout = 500;
const target = listenTarget();
server.listen(target, () => {
  console.log(`listening on ${target.fd !== undefined ? `fd ${target.fd}` : `port ${target.port}`}`);
  notify.ready();
});
const shutdown = () => {
  notify.stopping();
  server.close(() => process.exit(0));
  server.closeIdleConnections?.();
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
