#!/bin/sh
# Fly.io (like Docker named volumes) mounts volumes owned by root. Started as root, hand the data
# folder to the runtime user `node`, then drop root for good and run the command (the server, or the
# release_command's migrator). Started as any other user (docker run --user ...), just run it.
set -eu
if [ "$(id -u)" = "0" ]; then
  session_path="${SESSION_PATH:-/data/whatsapp-session}"
  mkdir -p "$session_path"
  chown -R node:node "$session_path"
  [ -d /data ] && chown node:node /data
  exec setpriv --reuid=node --regid=node --init-groups -- "$@"
fi
exec "$@"
