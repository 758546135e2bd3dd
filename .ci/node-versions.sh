#!/usr/bin/env bash
# Starts the built server under Node 22 and 24 on the embedded database and checks /health.
set -euo pipefail
cd "$(dirname "$0")/.."
for v in 22 24; do
	dir=$(mktemp -d)
	port=$((4100 + v))
	dbport=$((55400 + v))
	node_bin=$(npx -y "node@$v" -p 'process.execPath' 2>/dev/null | tail -n1)
	echo "node@$v: $("$node_bin" --version)"
	# exec: the background job is the server itself, so that the TERM below reaches it.
	(cd "$dir" && PORT=$port EMBEDDED_DB_PORT=$dbport LOG_LEVEL=warn exec "$node_bin" "$OLDPWD/server/dist/server.js" >"$dir/server.log" 2>&1) &
	pid=$!
	ok=""
	for _ in $(seq 1 60); do
		if curl -fsS --max-time 5 "http://127.0.0.1:$port/health" >"$dir/health.json" 2>/dev/null; then ok=1; break; fi
		sleep 1
	done
	kill -TERM "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	if [ -z "$ok" ]; then
		echo "node@$v: /health did not answer 200"; cat "$dir/server.log"; rm -rf "$dir"; exit 1
	fi
	echo "node@$v: /health $(cat "$dir/health.json")"
	rm -rf "$dir"
done
