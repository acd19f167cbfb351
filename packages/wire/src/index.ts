export * from './types.js'
export * from './ipv6.js'
