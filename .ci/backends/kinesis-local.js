#!/usr/bin/env node
// Starts kinesis-local (kinesis-mock) listening on 127.0.0.1 only. The mock
// binds 0.0.0.0 for both its plain and TLS ports and has no setting for the
// host, so this wrapper rewrites the host of every listen() before loading it.
//
// Run it with the kinesis-local package folder as the working directory (the
// mock reads its TLS certificate from ./server.json) and the ports in
// KINESIS_MOCK_PLAIN_PORT and KINESIS_MOCK_TLS_PORT.
'use strict'

var net = require('net')
var HOST = process.env.KINESIS_LOCAL_HOST || '127.0.0.1'
var listen = net.Server.prototype.listen

net.Server.prototype.listen = function() {
  var args = Array.prototype.slice.call(arguments)
  if (typeof args[0] === 'object' && args[0] !== null && !Array.isArray(args[0]) && args[0].port != null) {
    args[0] = Object.assign({}, args[0], {host: HOST})
  } else if (typeof args[0] === 'number' || (typeof args[0] === 'string' && /^\d+$/.test(args[0]))) {
    if (typeof args[1] === 'string') {
      args[1] = HOST
    } else {
      args.splice(1, 0, HOST)
    }
  }
  return listen.apply(this, args)
}

process.on('SIGTERM', function() { process.exit(0) })
process.on('SIGINT', function() { process.exit(0) })

require('kinesis-local/main.js')
