export * from './agreement.js'
export * from './revocation.js'
export * from './agreements.js'
