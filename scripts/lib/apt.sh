# Sourced by the install scripts that use Debian packages. `apt_get ARGS...`: apt-get as root
# (sudo -n when not root), one at a time: the project's scripts take the lock .tools/apt.lock
# (test files run two at a time and each may install something), and apt-get itself waits up to
# 10 minutes for dpkg's lock held by anything else (DPkg::Lock::Timeout) instead of failing at once.
APT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

apt_get() {
  local sudo=""
  if [[ "$(id -u)" != "0" ]]; then sudo="sudo -n"; fi
  mkdir -p "$APT_ROOT/.tools"
  (
    flock -w 900 8 || { echo "error: waited 15 minutes for another install's apt-get (.tools/apt.lock)" >&2; exit 1; }
    DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 "$@"
  ) 8>"$APT_ROOT/.tools/apt.lock"
}
