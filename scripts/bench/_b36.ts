import { base36 } from 'multiformats/bases/base36'
import { base32 } from 'multiformats/bases/base32'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { createHash } from 'node:crypto'
const cids = Array.from({ length: 20000 }, (_, i) => CID.createV1(0x71, Digest.create(0x12, createHash('sha256').update(String(i)).digest())))
const t = (name: string, f: (c: CID) => string) => { for (const c of cids.slice(0, 2000)) f(c); const s = performance.now(); for (const c of cids) f(c); console.log(name.padEnd(40), ((performance.now() - s) * 1000 / cids.length).toFixed(2), 'µs') }
t('base36.encode(cid.bytes) [base-x]', (c) => base36.encode(c.bytes))
t('base36.encode(multihash.bytes) [base-x]', (c) => base36.encode(c.multihash.bytes))
t('base32.encode(cid.bytes) [rfc4648]', (c) => base32.encode(c.bytes))
t('BigInt hex -> toString(36)', (c) => 'k' + BigInt('0x' + Buffer.from(c.bytes).toString('hex')).toString(36))
