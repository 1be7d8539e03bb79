// The file backend's public surface.
export { createSessionFolder, type SessionFolder, type SessionFolderOptions } from './folder.js'
export type { SessionFile } from './session.js'
export type { CompactionPolicy, QuarantineEvent, WriterStats } from './read.js'
export type { FileState } from './format.js'
export { scanSessionFolder, type SessionFolderScan, type FileInfo } from './scan.js'
export { InvalidClientIdError, isValidClientId, assertClientId, sessionPaths, classify } from './paths.js'
export { FILE_MODE, DIR_MODE } from './fsio.js'
