import { defineConfig } from 'vitest/config'

// These tests drive the CLI and child processes: each command starts a Node process of its own.
export default defineConfig({ test: { testTimeout: 60_000, hookTimeout: 120_000 } })
