// Application logs at info level drown test failures; set LOG_LEVEL=info to see them.
process.env.LOG_LEVEL = process.env.LOG_LEVEL || 'warn';
