#!/usr/bin/env bash
# Installs the Debian packages the test suite needs, when they are missing (run by `npm test`).
#   g++                           compiles the generated firmware header and the host tests
#   gcc-avr avr-libc binutils-avr compiles the header and the firmware for the AVR boards
#   arduino-core-avr              the Arduino core the AVR firmware builds on (npm run firmware)
#   socat                         pseudo-terminals: the simulated board's serial port, the bridge's serial tests
set -euo pipefail

packages=(g++ gcc-avr avr-libc binutils-avr arduino-core-avr socat)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "plotwire tests: installing missing system packages with apt: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  as_root=(sudo)
else
  echo "plotwire tests: need root to install ${missing[*]}; run: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "plotwire tests: installed ${missing[*]}"
