export * from './types.js'
export * from './dlif.js'
export * from './linux/index.js'
export * from './memory/index.js'
