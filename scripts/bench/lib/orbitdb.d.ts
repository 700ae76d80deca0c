// @orbitdb/core ships JavaScript without types: the little of it the benches use.
declare module '@orbitdb/core' {
  export interface OrbitDBDatabase {
    readonly address: string
    add(value: unknown): Promise<string>
    close(): Promise<void>
  }
  export interface OrbitDB {
    open(name: string, options?: { type?: 'events' | 'documents' | 'keyvalue' }): Promise<OrbitDBDatabase>
    stop(): Promise<void>
  }
  export function createOrbitDB(options: { ipfs: unknown; directory?: string; id?: string }): Promise<OrbitDB>
}
