// The file backend's public surface.
export { createFileBackend, type FileBackend, type FileBackendOptions, type CompactionPolicy, type QuarantineEvent, type WriterStats } from './backend.js'
export { scanSessionFolder, type SessionFolderScan, type FileInfo } from './scan.js'
export { InvalidClientIdError, isValidClientId, assertClientId, sessionPaths, classify } from './paths.js'
export { FILE_MODE, DIR_MODE } from './fsio.js'
