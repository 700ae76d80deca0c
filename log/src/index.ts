export { type AuditOptions, type AuditProblem, type AuditReport, auditLog } from './audit.ts'
export { type CarExport, exportCar, type ImportResult, importCar } from './car.ts'
export { type CheckPool, createCheckPool } from './check-pool.ts'
export {
  type Block,
  bytesMatchCid,
  cidFor,
  DAG_CBOR,
  decodeEvent,
  decodeStoredEvent,
  encodeBlock,
  encodeUnsigned,
  payloadLinks,
  RAW,
  rawBlock,
  type SignedEvent,
  sha256,
  type UnsignedEvent,
} from './codec.ts'
export { DATA_FORMAT, type DataDirPaths, dataDirPaths, type NodeConfig, resolveDataDir } from './data-dir.ts'
export { isVsdbError, VsdbError, type VsdbErrorCode, type VsdbErrorDetails } from './errors.ts'
export { checkEventBlock, type EventCheck, type EventFacts } from './event-check.ts'
export { createSigner, generateSigner, type Signer, verifySignature } from './keys.ts'
export {
  type AppendInput,
  type Head,
  type InitOptions,
  initLog,
  type Log,
  type LogStats,
  type OpenLogOptions,
  openLog,
  type StoredEvent,
} from './log.ts'
export { type NodeRetention, readRetention } from './retention.ts'
export {
  cidSchema,
  describeZodError,
  EVENT_TYPES,
  type EventType,
  MAX_RELEASED_PER_EVENT,
  type PayloadOf,
  payloadSchemas,
  RETENTION_POLICIES,
  type RetentionPolicy,
} from './schema.ts'
