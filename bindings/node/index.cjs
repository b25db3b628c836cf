'use strict';
module.exports = require('./lib/aichat.cjs');
