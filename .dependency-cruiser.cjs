/** The arrows of DESIGN.md: api → engine → {projections, replication} → log. A wrong-way import fails lint. */
const layer = (name, forbidden) => ({
  name: `${name}-imports-one-way`,
  severity: 'error',
  comment: `${name}/ may not import ${forbidden.join(', ')}: arrows point api → engine → {projections, replication} → log`,
  from: { path: `^${name}/` },
  to: { path: `^(${forbidden.join('|')})/` },
})

module.exports = {
  forbidden: [
    layer('log', ['projections', 'replication', 'engine', 'api', 'test', 'scripts']),
    layer('projections', ['replication', 'engine', 'api', 'test', 'scripts']),
    layer('replication', ['projections', 'engine', 'api', 'test', 'scripts']),
    layer('engine', ['api', 'test', 'scripts']),
    layer('api', ['test', 'scripts']),
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)node_modules/' },
    tsPreCompilationDeps: true,
    combinedDependencies: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
    tsConfig: { fileName: 'tsconfig.base.json' },
  },
}
