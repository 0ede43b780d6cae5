// Example on-demand service: a line echo on the socket the launcher passes. With
// start = "on-demand" it is not running until the first connection arrives.
import net from 'node:net';
import { listener, notify } from 'socket-launcher/service';

const server = net.createServer((socket) => socket.pipe(socket));
server.listen(listener('echo'), () => {
  console.log('started by the first connection; echoing');
  notify.ready();
});
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref(); // open echo sessions end with us
});
