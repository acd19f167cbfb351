export * from './types.js'
export * from './linux/index.js'
export * from './memory/index.js'
