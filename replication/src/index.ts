/**
 * The libp2p host, Automerge documents and block exchange land here (see DESIGN.md). Until then a node is a
 * cluster of one and this package exports nothing.
 */
export {}
