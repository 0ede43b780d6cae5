// The sockets module's public surface: bind a unit's sockets, keep them across starts, close them.
export { bindSocket, bindUnitSockets, closeSocket } from './bind.js';
export type { BindOptions } from './bind.js';
export type { BoundSocket, CreatedSocketFile } from './bound-socket.js';
export { reapplyOptions, retuneSocket } from './options.js';
export { bindKey, socketKey } from './key.js';
export { InheritedFds, takeInheritedFds, parseListenEnv } from './inherited.js';
export { LISTEN_FDS_START, listenEnv, parseListenFds } from './listen-fds.js';
export type { InheritedFd, ListenEnv } from './inherited.js';
