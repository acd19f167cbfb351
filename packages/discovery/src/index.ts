export * from './domain.js'
export * from './records.js'
export * from './record-store.js'
export * from './mesh-node.js'
