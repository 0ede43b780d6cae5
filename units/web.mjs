// Example service: HTTP on the socket the launcher passes at fd 3, answering with its pid.
// Run it with `launcher up --units units` (or `launcher run -l 127.0.0.1:8080 -- node units/web.mjs`).
import http from 'node:http';

const server = http.createServer((req, res) => {
  res.setHeader('content-type', 'text/plain');
  res.end(`hello from pid ${process.pid}\n`);
});

// fd 3 is already bound and listening: the launcher owns it and keeps it open across restarts.
server.listen({ fd: 3 }, () => console.log(`serving on fd 3 (${process.env.LISTEN_FDNAMES ?? 'unnamed'})`));

// Finish in-flight requests, then exit; the launcher sends SIGTERM on stop and on handoff.
process.on('SIGTERM', () => server.close(() => process.exit(0)));
