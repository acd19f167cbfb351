export * from './cmd.js'
export * from './session-store.js'
export * from './create-cmd.js'
export * from './local-cmd.js'
