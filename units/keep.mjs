// Example fd store service: a line echo that hands each client connection to the
// launcher (store) and takes the stored ones back at start (stored), so clients
// stay connected across `launcher restart keep` and crashes. Each answer names
// the pid that served it, so the swap is visible: "[pid 1234] hello".
import net from 'node:net';
import { listener, store, stored, unstore } from 'socket-launcher/service';

function serve(socket, name) {
  let buffered = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) socket.write(`[pid ${process.pid}] ${line}\n`);
  });
  // The client left: the launcher need not keep this connection any more.
  socket.on('end', () => {
    unstore(name);
    socket.end();
  });
  socket.on('error', () => unstore(name));
}

const restored = stored();
for (const { fd, name } of restored) serve(new net.Socket({ fd, readable: true, writable: true }), name);

let count = 0;
const server = net.createServer((socket) => {
  const name = `client-${process.pid}-${++count}`;
  store(name, socket).catch((error) => console.error(`cannot store ${name}: ${error.message}`));
  serve(socket, name);
});
server.listen(listener('keep'), () => console.log(`serving; ${restored.length} client(s) kept from before`));

// Exit without closing the clients: the launcher holds them for the next start.
process.on('SIGTERM', () => process.exit(0));
