export * from './engine.js'
export * from './options.js'
export type { LookupSample, ScaleIdentity, SliceMemory } from './slice.js'
export * from './maar-mesh.js'
