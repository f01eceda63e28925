#!/usr/bin/env bash
# Installs the Debian packages plotwire needs, when they are missing: `npm start` runs it with
# "start", `npm test` with "test".
#   socat                         pseudo-terminals: the simulated board's serial port (the demo), the bridge's serial tests
# and for the tests also:
#   g++                           compiles the generated firmware header and the host tests
#   doctest-dev                   the C++ test framework of the host tests (header only)
#   gcc-avr avr-libc binutils-avr compiles the header and the firmware for the AVR boards
#   arduino-core-avr              the Arduino core the AVR firmware builds on (npm run firmware)
#   chromium                      headless browser for the viewer's and the demo's tests (driven by playwright-core)
#   systemd                       systemd-analyze verify checks the unit plotwire service install writes
#   psmisc                        fuser, with which the bridge's tests see a program holding a serial port
#   redis-server                  the cluster tests' Redis (recent points, fan-out, stream ownership)
#   postgresql                    the cluster tests' PostgreSQL 15 (accounts, plots, points history)
#   haproxy                       the load balancer the cluster tests put in front of their nodes
set -euo pipefail

case "${1:-}" in
  start) packages=(socat) ;;
  test) packages=(socat g++ doctest-dev gcc-avr avr-libc binutils-avr arduino-core-avr chromium systemd psmisc redis-server postgresql haproxy) ;;
  *) echo "usage: scripts/ensure-deps.sh start|test" >&2; exit 2 ;;
esac
what="plotwire ${1}"

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "${what}: installing missing system packages with apt: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  as_root=(sudo)
else
  echo "${what}: need root to install ${missing[*]}; run: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "${what}: installed ${missing[*]}"
