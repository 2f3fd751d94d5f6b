/**
 * A connection string for messages and logs: its password (`//user:password@`) replaced by `***`.
 * @example redactDsn('redis://app:s3cret@10.0.0.5:6379') // 'redis://app:***@10.0.0.5:6379'
 */
export function redactDsn(dsn: string): string {
  return dsn.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}
