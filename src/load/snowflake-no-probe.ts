/**
 * snowflake-sdk (3.x), when it is imported, asks the cloud metadata services (169.254.169.254,
 * metadata.google.internal, AWS STS) which platform it runs on, for the telemetry it sends with
 * a login. A loader has no business probing its host's cloud identity, and where those addresses
 * are not reachable each probe waits for its timeout. Imported before the driver, this turns the
 * detection off unless the user chose otherwise (SNOWFLAKE_DISABLE_PLATFORM_DETECTION=false).
 */
process.env['SNOWFLAKE_DISABLE_PLATFORM_DETECTION'] ??= 'true';
