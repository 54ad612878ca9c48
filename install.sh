#!/bin/sh
# Install sep (Sequential Execution Pipeline), one standalone executable.
#
#   curl -fsSL https://github.com/OWNER/sep/releases/latest/download/install.sh | sh
#   sh install.sh [--from-source | --binary FILE]
#   curl -fsSL .../install.sh | sh -s -- --binary ./sep
#
# Options:
#   --from-source   build this checkout (npm ci && npm run build) and install dist/sep
#   --binary FILE   install FILE instead of downloading
#
# Environment:
#   SEP_VERSION        release to install, e.g. 0.1.0 (default: latest)
#   SEP_INSTALL_DIR    where `sep` goes (default: ~/.local/bin)
#   SEP_REPO           GitHub owner/name to download from (default below, stamped at release)
#   SEP_DOWNLOAD_BASE  download from here instead of GitHub releases:
#                        <base>/<version>/<file>, and <base>/latest/<file> when unpinned
#
# From GitHub the files are <https://github.com/SEP_REPO/releases>/download/v<version>/<file>,
# or .../latest/download/<file>. <file> is sep-<version>-<os>-<cpu>[-musl].tar.gz (os: linux,
# darwin; cpu: x64, arm64; -musl on musl Linux such as Alpine), listed with its SHA-256 in
# SHA256SUMS next to it. The archive is verified against SHA256SUMS before anything is installed,
# the new binary must run `sep --version` before it replaces anything, and it is moved into place
# in one rename. Inside GitHub Actions the install dir is appended to $GITHUB_PATH.
#
# Everything is inside functions and the last line calls main: when piped into sh, a download cut
# short runs nothing.

# Set by the release workflow to the repository that published this file.
SEP_DEFAULT_REPO=""

say() {
	printf 'install.sh: %s\n' "$*" >&2
}

fail() {
	printf 'install.sh: error: %s\n' "$*" >&2
	exit 1
}

usage() {
	cat <<'EOF'
usage: sh install.sh [--from-source | --binary FILE]
       curl -fsSL URL/install.sh | sh [-s -- OPTIONS]

  --from-source   build the checkout this install.sh is in (npm ci && npm run build)
  --binary FILE   install FILE instead of downloading a release

environment: SEP_VERSION (default latest), SEP_INSTALL_DIR (default ~/.local/bin),
             SEP_REPO (GitHub owner/name), SEP_DOWNLOAD_BASE (a mirror: <base>/<version>/<file>)
EOF
}

tmp=""
staged=""
cleanup() {
	if [ -n "$staged" ]; then rm -f "$staged"; fi
	if [ -n "$tmp" ]; then rm -rf "$tmp"; fi
}

# Pick the downloader and the hasher once, before any download.
find_tools() {
	if command -v curl >/dev/null 2>&1; then
		downloader=curl
	elif command -v wget >/dev/null 2>&1; then
		downloader=wget
	else
		fail "need curl or wget to download sep"
	fi
	if command -v sha256sum >/dev/null 2>&1; then
		hasher=sha256sum
	elif command -v shasum >/dev/null 2>&1; then
		hasher=shasum
	else
		fail "need sha256sum or shasum to verify the download"
	fi
}

# download URL FILE
download() {
	case $downloader in
		curl) curl --fail --silent --show-error --location --retry 2 --output "$2" "$1" </dev/null ;;
		wget) wget --quiet --output-document="$2" "$1" </dev/null ;;
	esac
}

# sha256 FILE: print its SHA-256 in hex
sha256() {
	case $hasher in
		sha256sum) sha256sum "$1" ;;
		shasum) shasum -a 256 "$1" ;;
	esac | cut -d ' ' -f 1
}

# The platform part of the archive name, from uname and the C library.
detect_platform() {
	os=$(uname -s) || fail "uname -s failed"
	case $os in
		Linux) os=linux ;;
		Darwin) os=darwin ;;
		*) fail "unsupported OS: $os (release builds exist for Linux and macOS; on another system build from a checkout with --from-source)" ;;
	esac
	cpu=$(uname -m) || fail "uname -m failed"
	case $cpu in
		x86_64 | amd64) cpu=x64 ;;
		aarch64 | arm64) cpu=arm64 ;;
		*) fail "unsupported CPU: $cpu (release builds exist for x86_64 and arm64)" ;;
	esac
	# An x64 shell on Apple silicon runs under Rosetta; the arm64 build is the native one.
	if [ "$os" = darwin ] && [ "$cpu" = x64 ] && [ "$(sysctl -n sysctl.proc_translated 2>/dev/null)" = 1 ]; then
		cpu=arm64
	fi
	libc=""
	# glibc answers getconf GNU_LIBC_VERSION; musl's ldd names itself; a musl loader without
	# either is Alpine-like. (A glibc system may have /lib/ld-musl-* too, hence the order.)
	if [ "$os" = linux ] && ! getconf GNU_LIBC_VERSION >/dev/null 2>&1; then
		if ldd --version 2>&1 | grep -qi musl; then
			libc=-musl
		else
			for loader in /lib/ld-musl-*; do
				if [ -e "$loader" ]; then libc=-musl; fi
			done
		fi
	fi
	platform=$os-$cpu$libc
}

# Download the release archive for this platform, check it, and unpack sep into $tmp/unpacked.
fetch_release() {
	detect_platform
	find_tools
	version=${SEP_VERSION:-latest}
	version=${version#v}
	if [ -n "${SEP_DOWNLOAD_BASE:-}" ]; then
		base=${SEP_DOWNLOAD_BASE%/}
		dir_url=$base/$version
	else
		repo=${SEP_REPO:-$SEP_DEFAULT_REPO}
		[ -n "$repo" ] || fail "no download location: set SEP_REPO=owner/name (GitHub releases) or SEP_DOWNLOAD_BASE (this install.sh was not published by a release)"
		base=https://github.com/$repo/releases
		if [ "$version" = latest ]; then dir_url=$base/latest/download; else dir_url=$base/download/v$version; fi
	fi

	say "downloading $dir_url/SHA256SUMS"
	if [ "$version" = latest ]; then hint="has a release been published there?"; else hint="is $version a released version? SEP_VERSION picks one"; fi
	download "$dir_url/SHA256SUMS" "$tmp/SHA256SUMS" || fail "could not download $dir_url/SHA256SUMS ($hint)"

	# The archive is the one SHA256SUMS line for this platform: the exact name when pinned; when
	# not, sep-<any version>-<platform>.tar.gz, so the name tells which version "latest" is.
	if [ "$version" = latest ]; then want=""; else want=sep-$version-$platform.tar.gz; fi
	line=$(awk -v want="$want" -v platform="$platform" '
		{ name = $2; sub(/^[*]/, "", name) }
		length($1) == 64 && $1 ~ /^[0-9a-fA-F]+$/ && (want == "" ? name ~ ("^sep-.+-" platform "[.]tar[.]gz$") : name == want) { print $1, name; n++ }
		END { exit n == 1 ? 0 : 1 }' "$tmp/SHA256SUMS") ||
		fail "$dir_url/SHA256SUMS lists no single archive for $platform${want:+ named $want}"
	expected=${line%% *}
	file=${line#* }

	say "downloading $dir_url/$file"
	download "$dir_url/$file" "$tmp/$file" || fail "could not download $dir_url/$file"
	actual=$(sha256 "$tmp/$file")
	[ "$actual" = "$expected" ] ||
		fail "checksum mismatch for $file: SHA256SUMS says $expected, the download is ${actual:-unreadable}; nothing was installed"
	say "SHA-256 verified: $expected  $file"

	mkdir "$tmp/unpacked" || fail "could not create $tmp/unpacked"
	# Only the member named sep is extracted, whatever else the archive might hold.
	tar -xzf "$tmp/$file" -C "$tmp/unpacked" sep </dev/null || fail "$file holds no sep executable"
	[ -f "$tmp/unpacked/sep" ] || fail "$file holds no sep executable"
	candidate=$tmp/unpacked/sep
}

# Build the checkout this script is in.
build_from_source() {
	case $0 in
		*/* | *.sh) ;;
		*) fail "--from-source needs install.sh run from a checkout: sh path/to/install.sh --from-source" ;;
	esac
	checkout=$(cd "$(dirname -- "$0")" && pwd) || fail "cannot find the directory of $0"
	[ -f "$checkout/package.json" ] || fail "$checkout is not a sep checkout (no package.json)"
	[ -f "$checkout/build.ts" ] || fail "$checkout is not a sep checkout (no build.ts)"
	command -v npm >/dev/null 2>&1 || fail "--from-source needs npm (Node.js) to build sep"
	say "building sep in $checkout (npm ci && npm run build)"
	(cd "$checkout" && npm ci && npm run build) </dev/null >&2 || fail "building sep in $checkout failed"
	candidate=$checkout/dist/sep
	[ -f "$candidate" ] || fail "the build did not produce $candidate"
}

# Copy $candidate next to its final place, check that it runs, then rename it over the old one.
install_binary() {
	if [ -n "${SEP_INSTALL_DIR:-}" ]; then
		install_dir=$SEP_INSTALL_DIR
	elif [ -n "${HOME:-}" ]; then
		install_dir=$HOME/.local/bin
	else
		fail "HOME is not set; set SEP_INSTALL_DIR"
	fi
	mkdir -p "$install_dir" || fail "cannot create the install dir $install_dir (set SEP_INSTALL_DIR to a writable directory)"
	install_dir=$(cd "$install_dir" && pwd) || fail "cannot enter the install dir $install_dir"
	target=$install_dir/sep
	[ ! -d "$target" ] || fail "$target is a directory; remove it or set SEP_INSTALL_DIR"
	staged=$install_dir/.sep.install.$$
	cp "$candidate" "$staged" || fail "cannot write to the install dir $install_dir (set SEP_INSTALL_DIR to a writable directory)"
	chmod 0755 "$staged" || fail "cannot make $staged executable"
	installed_version=$("$staged" --version </dev/null 2>"$tmp/version.err") ||
		fail "the new sep does not run on this machine, so nothing was installed: $(cat "$tmp/version.err")"
	mv -f "$staged" "$target" || fail "cannot move sep into $target"
	staged=""
}

main() {
	mode=release
	binary=""
	while [ $# -gt 0 ]; do
		case $1 in
			--from-source)
				[ "$mode" = release ] || fail "use one of --from-source and --binary"
				mode=source
				;;
			--binary | --binary=*)
				[ "$mode" = release ] || fail "use one of --from-source and --binary"
				mode=binary
				case $1 in
					--binary=*) binary=${1#--binary=} ;;
					*)
						[ $# -ge 2 ] || fail "--binary needs a FILE"
						binary=$2
						shift
						;;
				esac
				[ -n "$binary" ] || fail "--binary needs a FILE"
				;;
			-h | --help)
				usage
				exit 0
				;;
			*)
				usage >&2
				fail "unknown option: $1"
				;;
		esac
		shift
	done

	trap cleanup EXIT
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 143' TERM
	tmp=$(mktemp -d 2>/dev/null || mktemp -d -t sep-install) || fail "cannot create a temporary directory"

	case $mode in
		release) fetch_release ;;
		source) build_from_source ;;
		binary)
			[ -f "$binary" ] || fail "--binary $binary: no such file"
			candidate=$binary
			;;
	esac

	install_binary
	say "installed sep $installed_version to $target"

	if [ "${GITHUB_ACTIONS:-}" = true ] && [ -n "${GITHUB_PATH:-}" ]; then
		printf '%s\n' "$install_dir" >>"$GITHUB_PATH" || fail "cannot append $install_dir to \$GITHUB_PATH ($GITHUB_PATH)"
		say "added $install_dir to \$GITHUB_PATH for the next steps"
	else
		case :${PATH:-}: in
			*:"$install_dir":*) ;;
			*) say "$install_dir is not on your PATH; add it, e.g. export PATH=\"$install_dir:\$PATH\"" ;;
		esac
	fi
}

main "$@"
