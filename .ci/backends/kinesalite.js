#!/usr/bin/env node
// Starts kinesalite on 127.0.0.1 only (its own CLI binds every interface),
// with streams that turn ACTIVE almost at once, for tests and the demo.
//
// Usage: node kinesalite.js PORT   (or PORT in the environment)
// Optional: KINESALITE_PATH=DIR persists streams in a LevelDB folder.
'use strict'

var port = Number(process.argv[2] || process.env.PORT)
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error('kinesalite.js: give the port as the first argument or in PORT')
  process.exit(2)
}

var server = require('kinesalite')({
  path: process.env.KINESALITE_PATH || undefined,
  createStreamMs: 10,
  deleteStreamMs: 10,
  updateStreamMs: 10,
  shardLimit: 100,
})

server.on('error', function(err) {
  console.error('kinesalite.js: ' + err.message)
  process.exit(1)
})

server.listen(port, '127.0.0.1', function() {
  var a = server.address()
  console.log('kinesalite listening at http://%s:%d', a.address, a.port)
})

function stop() {
  server.close(function() { process.exit(0) })
  // Open keep-alive connections would hold close() forever.
  setTimeout(function() { process.exit(0) }, 1000).unref()
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
