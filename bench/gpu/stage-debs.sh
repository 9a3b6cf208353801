#!/usr/bin/env bash
# stage-debs.sh DEB_DIR - run as root on the GPU node (Ubuntu 24.04, merged /usr, no network).
# Unpacks every DEB_DIR/*.deb (made by bench/gpu/fetch-debs.sh) with `dpkg -x` into a staging
# folder (NUCSEG_STAGE, default /tmp/nucseg-stage) and copies it into / WITHOUT replacing any
# existing file (the node's own libraries win) nor the /lib, /bin, /sbin -> usr symlinks:
# the debs' lib/, lib64/, bin/, sbin/ go to /usr/lib, ... Then it does what the skipped
# maintainer scripts would have done for the build (HDF5's hdf5.pc alternative) and runs ldconfig.
# Idempotent. Configure nucseg afterwards with the HDF5 hint printed on the last line.
set -euo pipefail
deb_dir=${1:?usage: stage-debs.sh DEB_DIR}
stage=${NUCSEG_STAGE:-/tmp/nucseg-stage}
[ "$(id -u)" -eq 0 ] || { echo "stage-debs: must run as root" >&2; exit 1; }
debs=("$deb_dir"/*.deb)
[ -e "${debs[0]}" ] || { echo "stage-debs: no .deb in $deb_dir" >&2; exit 1; }

rm -rf "$stage" && mkdir -p "$stage"
for d in "${debs[@]}"; do dpkg -x "$d" "$stage"; done
for t in lib lib64 bin sbin; do   # merged /usr: top-level dirs belong under usr/
  if [ -d "$stage/$t" ] && [ ! -L "$stage/$t" ]; then
    mkdir -p "$stage/usr/$t" && cp -a "$stage/$t/." "$stage/usr/$t/" && rm -rf "${stage:?}/$t"
  fi
done
new=$(cd "$stage" && find . ! -type d | while read -r f; do [ -e "/$f" ] || [ -L "/$f" ] || echo; done | wc -l)
(cd "$stage" && tar -cf - -- *) | tar -C / -xmf - --skip-old-files --keep-directory-symlink

# libhdf5-dev's postinst: update-alternatives hdf5.pc -> hdf5-serial.pc (pkg-config hdf5).
pc=/usr/lib/x86_64-linux-gnu/pkgconfig
[ -e "$pc/hdf5.pc" ] || ln -s hdf5-serial.pc "$pc/hdf5.pc"
ldconfig
# FindHDF5 (no h5cc wrapper on the node) finds hdf5/serial/libhdf5.so and include/hdf5/serial
# by itself; HDF5_ROOT pins it there in case another HDF5 is on the node.
hdf5=/usr/lib/x86_64-linux-gnu/hdf5/serial
if [ ! -e "$hdf5/libhdf5.so" ] || [ ! -e "$hdf5/include/hdf5.h" ]; then echo "stage-debs: HDF5 missing" >&2; exit 1; fi
echo "stage-debs: ${#debs[@]} debs, $new new files in / (existing kept); cmake flags: -DNUCSEG_USE_MPI=OFF -DHDF5_ROOT=$hdf5"
