export * from './config.js'
export * from './errors.js'
export * from './api-server.js'
export * from './observability/index.js'
