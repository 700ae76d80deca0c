export { type EntitySummary, entityDimensions, entitySummaries } from './entities.ts'
