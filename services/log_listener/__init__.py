"""The log listener: newline-delimited JSON over TCP (logback's LogstashTcpSocketAppender) to the
`logs` topic."""
