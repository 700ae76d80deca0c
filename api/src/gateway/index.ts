export { createGatewayHandler, type GatewayHandler } from './trustless-gateway.ts'
