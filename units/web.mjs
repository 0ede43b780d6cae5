// Example service: HTTP on the socket the launcher passes (named "http" in web.toml),
// answering with its pid. Run it with `npm start` (= `launcher up --units units`).
import http from 'node:http';
import { listener, notify } from 'socket-launcher/service';

const server = http.createServer((req, res) => {
  res.setHeader('content-type', 'text/plain');
  res.end(`hello from pid ${process.pid}\n`);
});

// The socket is already bound and listening: the launcher owns it and keeps it
// open across restarts, so connections wait in its backlog instead of being refused.
server.listen(listener('http'), () => {
  console.log(`serving on ${process.env.LISTEN_FDNAMES} (instance ${process.env.LAUNCHER_INSTANCE})`);
  notify.ready(); // ready = "notify": `launcher restart web` swaps only once this arrives
});

// Finish in-flight requests, then exit; the launcher sends SIGTERM on stop and on handoff.
process.on('SIGTERM', () => {
  notify.stopping();
  server.close(() => process.exit(0));
  server.closeIdleConnections();
});
