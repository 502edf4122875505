/// The Machine Converter's program, `/bin/ferry-convert` in the appliance's initramfs. It is a
/// POSIX sh script for busybox because the appliance has nothing else: it must work on any
/// guest, so it does not run the guest's shell or tools except through `chroot` (where the
/// guest's own update-initramfs, dracut, update-grub and systemctl do the real work).
///
/// Protocol (serial console, one line each; ConverterConsole parses them):
///   FERRY-INSPECT {json}             — a GuestInspection, keys as its property names
///   FERRY-CONVERT-CHANGE {json}      — a ConversionChange (file, before, after, why)
///   FERRY-CONVERT-TOOL <command>     — the guest command that rebuilt the initramfs
///   FERRY-CONVERT-NOTE <text>        — something done otherwise than the preferred way
///   FERRY-CONVERT-DONE ok|refused|failed <reason> — refused: before any change to the disk
/// Settings come from the kernel command line: ferry.mode=inspect|convert,
/// ferry.platform=<name>, ferry.drivers=a,b (the target's drivers), ferry.check=a,b (the drivers
/// inspected in each kernel). Written by hand: libguestfs's inspection does the same in C and
/// OCaml, but it needs its own appliance and is not what the sandbox's converter instance runs.
enum ConverterScript {
    static let text = #"""
#!/bin/sh
# ferry-convert: inspect (and convert) the guest system on /dev/vda. See ConverterScript.swift.
PATH=/bin:/sbin:/usr/bin:/usr/sbin
export PATH
mode=inspect; platform=""; drivers=""; checked=""
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    ferry.mode=*) mode=${arg#*=} ;;
    ferry.platform=*) platform=${arg#*=} ;;
    ferry.drivers=*) drivers=$(echo "${arg#*=}" | tr ',' ' ') ;;
    ferry.check=*) checked=$(echo "${arg#*=}" | tr ',' ' ') ;;
  esac
done
R=/sysroot          # the guest's root file system
W=/run/ferry        # the appliance's scratch files (its root is in RAM)
mkdir -p $R $W
mounted=""          # mount points to undo at the end, innermost first
changes=0; regenerated=no; missing=""
: > $W/kernel-versions; : > $W/initrds

# ---- output -------------------------------------------------------------------------------
# A JSON string from $1: backslash, quote, tab escaped, other control characters dropped,
# lines joined with \n.
json_string() {
  printf '"'
  printf '%s' "$1" | tr -d '\001-\010\013\014\015\016-\037' \
    | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/	/\\t/g' \
    | awk '{ printf "%s%s", (NR > 1 ? "\\n" : ""), $0 }'
  printf '"'
}
json_or_null() { if [ -n "$1" ]; then json_string "$1"; else printf 'null'; fi; }
# A JSON list of the lines of file $1.
json_lines() {
  local first=1 line
  printf '['
  if [ -s "$1" ]; then
    while IFS= read -r line; do
      [ $first = 1 ] || printf ','
      first=0
      json_string "$line"
    done < "$1"
  fi
  printf ']'
}
# A JSON list of the words of $*.
json_words() {
  local first=1 word
  printf '['
  for word in $*; do
    [ $first = 1 ] || printf ','
    first=0
    json_string "$word"
  done
  printf ']'
}
# Joins the JSON values of file $1 (one a line) into a list.
json_join() { printf '['; [ -s "$1" ] && awk '{ printf "%s%s", (NR > 1 ? "," : ""), $0 }' "$1"; printf ']'; }

change() { # file before after why
  echo "FERRY-CONVERT-CHANGE {\"file\":$(json_string "$1"),\"before\":$(json_string "$2"),\"after\":$(json_string "$3"),\"why\":$(json_string "$4")}"
  changes=$((changes + 1))
}
note() { echo "FERRY-CONVERT-NOTE $*"; }
# Progress for the log, with the seconds since the appliance's kernel started.
step() { echo "ferry-convert: $* (at $(cut -d ' ' -f 1 /proc/uptime) s)"; }

finish() { # ok|refused|failed reason: everything written and unmounted before the line is printed
  sync
  for m in $mounted; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null; done
  sync
  echo "FERRY-CONVERT-DONE $1 $2"
  poweroff -f
  sleep 60
}

# ---- the guest ----------------------------------------------------------------------------
# A command of the guest, in its root, with a clean environment.
inguest() { chroot $R /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }
# blkid's value of $2 (TYPE, UUID, LABEL) for device $1 (util-linux's blkid, from the host).
blk() { blkid -o value -s "$2" "$1" 2>/dev/null; }
# The appliance's device for an fstab spec of the guest. A kernel device name (/dev/sda1,
# /dev/xvda1, /dev/nvme0n1p1) means the same partition number on the one disk here.
resolve() {
  case "$1" in
    UUID=*) blkid -U "${1#UUID=}" 2>/dev/null ;;
    LABEL=*) blkid -L "${1#LABEL=}" 2>/dev/null ;;
    /dev/disk/by-uuid/*) blkid -U "${1##*/}" 2>/dev/null ;;
    /dev/disk/by-label/*) blkid -L "${1##*/}" 2>/dev/null ;;
    /dev/mapper/*) ;;
    /dev/*[0-9]) n=$(echo "$1" | sed 's/.*[^0-9]\([0-9][0-9]*\)$/\1/'); [ -b /dev/vda$n ] && echo /dev/vda$n ;;
  esac
}
# Read-only mount options that write nothing, even to a file system whose journal needs replay.
ro_options() {
  if [ "$mode" = convert ]; then echo ro; return; fi
  case "$1" in ext3|ext4) echo ro,noload ;; xfs) echo ro,norecovery ;; *) echo ro ;; esac
}
unit_file() { # the path of systemd unit $1 in the guest, if it has one
  local d
  for d in /etc/systemd/system /lib/systemd/system /usr/lib/systemd/system; do
    [ -e "$R$d/$1" ] && { echo "$d/$1"; return 0; }
  done
  return 1
}
initrd_of() { awk -v v="$1" '$1 == v { print $2 }' $W/initrds; }
unit_state() { inguest systemctl is-enabled "$1" 2>/dev/null | head -n 1; }
# Lists the files of initramfs $1 (a path in the guest) with the guest's own tool.
list_initramfs() {
  if [ -e $R/usr/bin/lsinitramfs ] || [ -e $R/usr/sbin/lsinitramfs ]; then inguest lsinitramfs "$1"
  elif [ -e $R/usr/bin/lsinitrd ] || [ -e $R/usr/sbin/lsinitrd ]; then inguest lsinitrd "$1"
  else return 1
  fi
}
# A module name as a pattern for both spellings (crc32c-intel, crc32c_intel).
module_pattern() { echo "$1" | sed 's/[-_]/[-_]/g'; }
# builtin, module or missing: driver $2 in the modules of kernel $1.
availability() {
  local p; p=$(module_pattern "$2")
  if grep -qE "/$p\.ko" "$R/lib/modules/$1/modules.builtin" 2>/dev/null; then echo builtin
  elif grep -qE "/$p\.ko(\.[a-z0-9]+)?:" "$R/lib/modules/$1/modules.dep" 2>/dev/null; then echo module
  else echo missing
  fi
}
# true, false or null (no listing): driver $2 in the initramfs listing of kernel $1.
in_initramfs() {
  [ -f "$W/initramfs-$1.list" ] || { echo null; return; }
  if grep -qE "/$(module_pattern "$2")\.ko" "$W/initramfs-$1.list"; then echo true; else echo false; fi
}

wait_for_disk() {
  local i=0
  while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  [ -b /dev/vda ]
}

# ---- find the root file system ------------------------------------------------------------
step "started in $mode mode"
wait_for_disk || finish failed "no disk attached (no /dev/vda)"
devices=""
for p in /sys/block/vda/vda*; do [ -e "$p" ] && devices="$devices /dev/${p##*/}"; done
[ -n "$devices" ] || devices=/dev/vda
: > $W/filesystems; : > $W/reasons
root=""; roottype=""; encrypted=""; windows=""; lvm=""
for dev in $devices; do
  type=$(blk $dev TYPE)
  echo "{\"device\":$(json_string $dev),\"type\":$(json_string "$type"),\"uuid\":$(json_or_null "$(blk $dev UUID)"),\"label\":$(json_or_null "$(blk $dev LABEL)")}" >> $W/filesystems
  case "$type" in
    crypto_LUKS) encrypted="$encrypted $dev" ;;
    ntfs) windows="$windows $dev" ;;
    LVM2_member) lvm="$lvm $dev" ;;
    ext2|ext3|ext4|xfs|btrfs)
      [ -n "$root" ] && continue
      mount -t "$type" -o "$(ro_options "$type")" "$dev" $R 2>/dev/null || continue
      if [ -e $R/etc/fstab ] || [ -e $R/etc/os-release ] || [ -e $R/usr/lib/os-release ]; then
        root=$dev; roottype=$type; mounted="$R"
      else
        umount $R
      fi ;;
  esac
done

if [ -z "$root" ]; then
  if [ -n "$encrypted" ]; then echo "encrypted root: crypto_LUKS on$encrypted, which the converter cannot open" >> $W/reasons
  elif [ -n "$lvm" ]; then echo "the root is on LVM (LVM2_member on$lvm), which the converter cannot open yet" >> $W/reasons
  elif [ -n "$windows" ]; then echo "Windows (NTFS on$windows): the converter handles Linux only for now" >> $W/reasons
  else echo "no Linux root file system on the disk (no file system holds /etc/fstab or os-release)" >> $W/reasons
  fi
else
  # /boot and /boot/efi when they are file systems of their own, as the guest mounts them.
  awk '!/^[[:space:]]*#/ && ($2 == "/boot" || $2 == "/boot/efi") { print $1, $2, $3 }' $R/etc/fstab 2>/dev/null > $W/extra-mounts
  while read -r spec point type; do
    dev=$(resolve "$spec")
    [ -n "$dev" ] || { echo "$point ($spec) is not on this disk" >> $W/reasons; continue; }
    mount -t "$type" -o "$(ro_options "$type")" "$dev" "$R$point" && mounted="$R$point $mounted"
  done < $W/extra-mounts
  # What udev would make: /dev/disk/by-uuid and by-label links. update-grub writes root=UUID=
  # only when /dev/disk/by-uuid/<uuid> exists.
  for dev in $devices; do
    for key in UUID LABEL; do
      value=$(blk $dev $key)
      [ -n "$value" ] || continue
      folder=/dev/disk/by-$(echo $key | tr 'A-Z' 'a-z')
      mkdir -p $folder && ln -sf ../../${dev#/dev/} "$folder/$value"
    done
  done
  for d in proc sys dev; do mount -o bind /$d $R/$d && mounted="$R/$d $mounted"; done
  # The guest's tools write temporary files; on a read-only disk (inspect) they go to RAM.
  for d in run tmp; do [ -d $R/$d ] && mount -t tmpfs tmpfs $R/$d && mounted="$R/$d $mounted"; done
fi

# ---- inspect ------------------------------------------------------------------------------
os_json=null; kernels_json="[]"; bootloader_json=null; tool=""; fstab_json="[]"; network_json=null
hypervisor=""; cloudinit=false; hooks=""; hostname=""; newest=""; firmware=""
if [ -n "$root" ]; then
  osr=""
  for f in $R/etc/os-release $R/usr/lib/os-release; do [ -f "$f" ] && { osr=$f; break; }; done
  osval() { [ -n "$osr" ] && sed -n "s/^$1=//p" "$osr" | head -n 1 | sed -e 's/^"\(.*\)"$/\1/' -e "s/^'\(.*\)'\$/\1/"; }
  id=$(osval ID); like=$(osval ID_LIKE)
  case " $id $like " in
    *" debian "*|*" ubuntu "*) family=debian ;;
    *" rhel "*|*" fedora "*|*" centos "*) family=rhel ;;
    *suse*) family=suse ;;
    *" arch "*) family=arch ;;
    *) family=unknown ;;
  esac
  if [ -z "$osr" ]; then echo "unknown OS family: no os-release in /etc or /usr/lib" >> $W/reasons
  elif [ $family = unknown ]; then echo "unknown OS family: os-release says ID=$id ID_LIKE=$like" >> $W/reasons
  fi
  os_json="{\"family\":\"$family\",\"distribution\":$(json_string "$id"),\"version\":$(json_string "$(osval VERSION_ID)"),\"prettyName\":$(json_string "$(osval PRETTY_NAME)")}"

  if [ -e $R/usr/sbin/update-initramfs ] || [ -e $R/sbin/update-initramfs ]; then tool=initramfs-tools
  elif [ -e $R/usr/bin/dracut ] || [ -e $R/usr/sbin/dracut ] || [ -e $R/sbin/dracut ]; then tool=dracut
  fi

  # Kernels: an image in /boot (or beside its modules) and /lib/modules/<version>.
  : > $W/kernels
  for m in $R/lib/modules/*; do
    [ -d "$m" ] || continue
    v=${m##*/}; image=""; initrd=""
    for c in /boot/vmlinuz-$v /boot/vmlinux-$v /lib/modules/$v/vmlinuz; do [ -e "$R$c" ] && { image=$c; break; }; done
    [ -n "$image" ] || continue
    for c in /boot/initrd.img-$v /boot/initramfs-$v.img /boot/initrd-$v; do [ -e "$R$c" ] && { initrd=$c; break; }; done
    [ -n "$initrd" ] && list_initramfs "$initrd" > "$W/initramfs-$v.list" 2>/dev/null || rm -f "$W/initramfs-$v.list"
    : > $W/drivers
    for d in $checked; do
      echo "{\"name\":$(json_string $d),\"availability\":\"$(availability "$v" $d)\",\"inInitramfs\":$(in_initramfs "$v" $d)}" >> $W/drivers
    done
    echo "{\"version\":$(json_string "$v"),\"image\":$(json_string "$image"),\"initramfs\":$(json_or_null "$initrd"),\"drivers\":$(json_join $W/drivers)}" >> $W/kernels
    echo "$v" >> $W/kernel-versions
    printf '%s\t%s\n' "$v" "$initrd" >> $W/initrds
  done
  kernels_json=$(json_join $W/kernels)
  [ -s $W/kernels ] || echo "no kernel: no /boot/vmlinuz-* with its modules in /lib/modules" >> $W/reasons
  newest=$(sort -V $W/kernel-versions 2>/dev/null | tail -n 1)

  # Bootloader: GRUB 2 (Debian's /boot/grub, Red Hat's /boot/grub2), else extlinux.
  bl=none; cfg=""; rootarg=""; cmdline=""
  for c in /boot/grub/grub.cfg /boot/grub2/grub.cfg; do [ -f "$R$c" ] && { bl=grub2; cfg=$c; break; }; done
  if [ $bl = none ]; then
    for c in /boot/extlinux/extlinux.conf /boot/syslinux/syslinux.cfg /extlinux.conf; do [ -f "$R$c" ] && { bl=extlinux; cfg=$c; break; }; done
  fi
  root_argument() { # root= of the first kernel line of $1 (BLS entries when GRUB has none)
    grep -hE '^[[:space:]]*(linux|linux16|linuxefi|append|APPEND|options)[[:space:]]' "$@" 2>/dev/null | tr ' \t' '\n\n' | sed -n 's/^root=//p' | head -n 1
  }
  if [ -n "$cfg" ]; then
    rootarg=$(root_argument "$R$cfg")
    [ -n "$rootarg" ] || rootarg=$(root_argument $R/boot/loader/entries/*.conf)
  fi
  grub_cmdline() {
    [ -f $R/etc/default/grub ] || [ -d $R/etc/default/grub.d ] || return 0
    inguest /bin/sh -c '[ -f /etc/default/grub ] && . /etc/default/grub; for f in /etc/default/grub.d/*.cfg; do [ -e "$f" ] && . "$f"; done; printf "%s" "$GRUB_CMDLINE_LINUX"' 2>/dev/null
  }
  [ $bl = grub2 ] && cmdline=$(grub_cmdline)
  # UEFI when the guest has an EFI system partition (mounted at /boot/efi), else BIOS.
  firmware=bios
  if grep -qE '^[^#]*[[:space:]]/boot/efi[[:space:]]' $R/etc/fstab 2>/dev/null || [ -d $R/boot/efi/EFI ]; then firmware=uefi; fi
  bootloader_json="{\"name\":\"$bl\",\"configPath\":$(json_or_null "$cfg"),\"rootArgument\":$(json_or_null "$rootarg"),\"commandLine\":$(json_or_null "$cmdline")}"

  # fstab: spec, mount point, type, options.
  awk '!/^[[:space:]]*#/ && NF >= 3 { print $1 "\t" $2 "\t" $3 "\t" (NF >= 4 ? $4 : "defaults") }' $R/etc/fstab 2>/dev/null > $W/fstab
  : > $W/fstab.json
  while IFS='	' read -r spec point type options; do
    echo "{\"spec\":$(json_string "$spec"),\"mountPoint\":$(json_string "$point"),\"type\":$(json_string "$type"),\"options\":$(json_string "$options")}" >> $W/fstab.json
  done < $W/fstab
  fstab_json=$(json_join $W/fstab.json)
  case "$(awk '$2 == "/" { print $1; exit }' $W/fstab)" in
    /dev/mapper/*crypt*|/dev/mapper/luks*) echo "encrypted root: / is $(awk '$2 == "/" { print $1; exit }' $W/fstab)" >> $W/reasons ;;
  esac

  # Network: each tool's files, the interfaces they name (name, method, addresses, file).
  : > $W/net-tools; : > $W/net-files; : > $W/interfaces; : > $W/rules
  if [ -f $R/etc/network/interfaces ] && { [ -e $R/sbin/ifup ] || [ -e $R/usr/sbin/ifup ]; }; then
    echo ifupdown >> $W/net-tools
    for f in $R/etc/network/interfaces $R/etc/network/interfaces.d/*; do
      [ -f "$f" ] || continue
      echo "${f#$R}" >> $W/net-files
      awk -v F="${f#$R}" '
        function flush() { if (name != "" && name != "lo") print name "\t" method "\t" addrs "\t" F; name = "" }
        /^[[:space:]]*#/ { next }
        $1 == "iface" { flush(); name = $2; method = $4; addrs = ""; next }
        $1 == "address" && name != "" { addrs = addrs (addrs == "" ? "" : " ") $2; next }
        $1 == "auto" || $1 ~ /^allow-/ || $1 == "mapping" || $1 ~ /^source/ { flush() }
        END { flush() }' "$f" >> $W/interfaces
    done
  fi
  if ls $R/etc/netplan/*.yaml >/dev/null 2>&1; then
    echo netplan >> $W/net-tools
    for f in $R/etc/netplan/*.yaml; do
      echo "${f#$R}" >> $W/net-files
      awk -v F="${f#$R}" '
        function indent(s) { match(s, /^ */); return RLENGTH }
        function flush() { if (name != "") print name "\t" method "\t" addrs "\t" F; name = "" }
        function add(a) { gsub(/[]["]/, "", a); if (a != "") addrs = addrs (addrs == "" ? "" : " ") a }
        /^[[:space:]]*#/ || /^[[:space:]]*$/ { next }
        { i = indent($0) }
        sec && i <= e { flush(); sec = 0 }
        ns >= 0 && i <= ns { ns = -1 }
        /^ *ethernets: *$/ { sec = 1; e = i; c = -1; ns = -1; next }
        !sec { next }
        c < 0 { c = i }
        i == c { flush(); name = $1; sub(/:$/, "", name); method = "manual"; addrs = ""; list = 0; next }
        /nameservers:/ { ns = i; next }
        ns >= 0 { next }
        /dhcp4: *(true|yes)/ { method = "dhcp"; next }
        /addresses:/ { if (method != "dhcp") method = "static"; s = $0; sub(/.*addresses: */, "", s); gsub(/,/, " ", s); n = split(s, a, " "); for (k = 1; k <= n; k++) add(a[k]); list = 1; next }
        list && /^ *- / { s = $0; sub(/^ *- */, "", s); add(s); next }
        { list = 0 }
        END { flush() }' "$f" >> $W/interfaces
    done
  fi
  if ls $R/etc/systemd/network/*.network >/dev/null 2>&1; then
    echo systemd-networkd >> $W/net-tools
    for f in $R/etc/systemd/network/*.network; do
      echo "${f#$R}" >> $W/net-files
      awk -v F="${f#$R}" '
        /^\[/ { sec = $0 }
        sec == "[Match]" && /^Name=/ { name = substr($0, 6) }
        sec == "[Match]" && /^Type=/ && name == "" { name = "type:" substr($0, 6) }
        /^DHCP=/ { v = substr($0, 6); if (v != "no" && v != "false") method = "dhcp" }
        /^Address=/ { addrs = addrs (addrs == "" ? "" : " ") substr($0, 9); if (method != "dhcp") method = "static" }
        END { print (name == "" ? "*" : name) "\t" (method == "" ? "manual" : method) "\t" addrs "\t" F }' "$f" >> $W/interfaces
    done
  fi
  if ls $R/etc/NetworkManager/system-connections/* >/dev/null 2>&1; then
    echo NetworkManager >> $W/net-tools
    for f in $R/etc/NetworkManager/system-connections/*; do
      echo "${f#$R}" >> $W/net-files
      awk -v F="${f#$R}" -F= '
        /^\[/ { sec = $0 }
        $1 == "interface-name" { name = $2 }
        sec == "[ipv4]" && $1 == "method" { method = $2 }
        sec == "[ipv4]" && $1 ~ /^address[0-9]*$/ { split($2, a, ","); addrs = addrs (addrs == "" ? "" : " ") a[1] }
        END { print (name == "" ? "*" : name) "\t" method "\t" addrs "\t" F }' "$f" >> $W/interfaces
    done
  fi
  if ls $R/etc/sysconfig/network-scripts/ifcfg-* >/dev/null 2>&1; then
    echo ifcfg >> $W/net-tools
    for f in $R/etc/sysconfig/network-scripts/ifcfg-*; do
      [ "${f##*/}" = ifcfg-lo ] && continue
      echo "${f#$R}" >> $W/net-files
      awk -v F="${f#$R}" -F= '
        { gsub(/"/, "", $2) }
        $1 == "DEVICE" { name = $2 }
        $1 == "BOOTPROTO" { method = $2 }
        $1 ~ /^IPADDR/ { addrs = addrs (addrs == "" ? "" : " ") $2 }
        $1 ~ /^PREFIX/ { prefix = $2 }
        END { if (prefix != "" && addrs !~ /\//) addrs = addrs "/" prefix; print name "\t" method "\t" addrs "\t" F }' "$f" >> $W/interfaces
    done
  fi
  # NIC naming rules: systemd .link files and udev rules with NAME=, in /etc (the admin's).
  for f in $R/etc/systemd/network/*.link; do
    [ -f "$f" ] || continue
    awk -v F="${f#$R}" '
      /^\[/ { sec = $0; next }
      sec == "[Match]" && /=/ { match_ = match_ (match_ == "" ? "" : " ") $0 }
      sec == "[Link]" && /^Name=/ { name = substr($0, 6) }
      END { if (name != "") print F "\t" match_ "\t" name }' "$f" >> $W/rules
  done
  for f in $R/etc/udev/rules.d/*.rules; do
    [ -f "$f" ] || continue
    grep -v '^[[:space:]]*#' "$f" | grep 'NAME=' | while IFS= read -r line; do
      name=$(echo "$line" | sed -n 's/.*NAME:*="\([^"]*\)".*/\1/p')
      what=$(echo "$line" | tr ',' '\n' | grep -E 'ATTR\{address\}|DRIVERS|KERNELS|ATTR\{dev_id\}' | sed 's/^ *//' | tr '\n' ' ' | sed 's/ $//')
      printf '%s\t%s\t%s\n' "${f#$R}" "$what" "$name" >> $W/rules
    done
  done
  : > $W/interfaces.json; : > $W/rules.json
  while IFS='	' read -r name method addrs file; do
    echo "{\"name\":$(json_string "$name"),\"method\":$(json_string "$method"),\"addresses\":$(json_words $addrs),\"file\":$(json_string "$file")}" >> $W/interfaces.json
  done < $W/interfaces
  while IFS='	' read -r file what name; do
    echo "{\"file\":$(json_string "$file"),\"match\":$(json_string "$what"),\"name\":$(json_string "$name")}" >> $W/rules.json
  done < $W/rules
  network_json="{\"tools\":$(json_lines $W/net-tools),\"files\":$(json_lines $W/net-files),\"interfaces\":$(json_join $W/interfaces.json),\"namingRules\":$(json_join $W/rules.json)}"

  # Hypervisor tools of a source platform: packaged open-vm-tools, VMware's own tarball, Hyper-V's daemons.
  { unit_file open-vm-tools.service || unit_file vmtoolsd.service; } >/dev/null && hypervisor="$hypervisor open-vm-tools"
  { [ -e $R/etc/vmware-tools/locations ] || unit_file vmware-tools.service; } >/dev/null && hypervisor="$hypervisor vmware-tools"
  { unit_file hv-kvp-daemon.service || unit_file hypervkvpd.service || unit_file hv_kvp_daemon.service; } >/dev/null && hypervisor="$hypervisor hyperv-daemons"
  [ -e $R/usr/bin/cloud-init ] && { cloudinit=true; hooks="cloud-init"; }
  [ -e $R/etc/systemd/system/ferry-guest.service ] && hooks="$hooks ferry-guest.service"
  hostname=$(head -n 1 $R/etc/hostname 2>/dev/null)
fi

step "inspected"
if [ -s $W/reasons ]; then convertible=false; else convertible=true; fi
echo "FERRY-INSPECT {\"fileSystems\":$(json_join $W/filesystems),\"rootDevice\":$(json_or_null "$root"),\"operatingSystem\":$os_json,\"kernels\":$kernels_json,\"bootloader\":$bootloader_json,\"firmware\":$(json_or_null "$firmware"),\"initramfsTool\":$(json_or_null "$tool"),\"fstab\":$fstab_json,\"network\":$network_json,\"hypervisorTools\":$(json_words $hypervisor),\"cloudInit\":$cloudinit,\"firstBootHooks\":$(json_words $hooks),\"hostname\":$(json_or_null "$hostname"),\"convertible\":$convertible,\"reasons\":$(json_lines $W/reasons)}"

[ "$mode" = convert ] || finish ok inspected
[ $convertible = true ] || finish refused "not convertible: $(tr '\n' ';' < $W/reasons | sed 's/;$//; s/;/; /g')"

# ---- convert: refuse first, before anything changes (the disk is still mounted read-only) -----
[ -n "$drivers" ] || finish refused "no target drivers given (ferry.drivers)"
for d in $drivers; do
  [ "$(availability "$newest" $d)" = missing ] && finish refused "kernel $newest has no $d driver, which $platform needs"
done
initramfs_needs() { # drivers some kernel has as a module but not in its initramfs
  local v d
  for v in $(cat $W/kernel-versions); do
    for d in $drivers; do
      [ "$(availability "$v" $d)" = module ] && [ "$(in_initramfs "$v" $d)" != true ] && echo $d
    done
  done | sort -u | tr '\n' ' '
}
missing_now=$(initramfs_needs)
if [ -n "$missing_now" ] && [ -z "$tool" ]; then
  finish refused "the initramfs lacks $missing_now and the guest has no initramfs tool (initramfs-tools or dracut); the converter does not edit an initramfs by hand"
fi

for m in $R $(awk '{ print "/sysroot" $2 }' $W/extra-mounts); do
  mount -o remount,rw "$m" || finish refused "cannot mount $m read-write"
done

# 1. fstab by UUID: a device name (/dev/sda1) depends on the controller (/dev/vda1, /dev/nvme0n1p1).
rootuuid=$(blk $root UUID)
while IFS='	' read -r spec point type options; do
  case "$spec" in /dev/disk/*|/dev/mapper/*) continue ;; /dev/*) ;; *) continue ;; esac
  dev=$(resolve "$spec"); uuid=""
  [ -n "$dev" ] && uuid=$(blk "$dev" UUID)
  [ -n "$uuid" ] || { note "fstab: $spec ($point) has no file system on this disk to name by UUID; left as it is"; continue; }
  sed -i "s|^\([[:space:]]*\)$spec\([[:space:]]\)|\1UUID=$uuid\2|" $R/etc/fstab
  change /etc/fstab "$spec $point $type" "UUID=$uuid $point $type" "a device name depends on the disk controller ($spec is not what the target calls it)"
done < $W/fstab

# 2. GRUB's settings: root by UUID, the kernel's console on the serial port.
grub_changed=no
if [ "$bl" = grub2 ]; then
  for f in $R/etc/default/grub $R/etc/default/grub.d/*.cfg; do
    [ -f "$f" ] || continue
    line=$(grep -E '^GRUB_DISABLE_LINUX_UUID="?true"?' "$f" | head -n 1)
    [ -n "$line" ] || continue
    sed -i 's/^\(GRUB_DISABLE_LINUX_UUID="\{0,1\}true"\{0,1\}\)/# \1  # Ferry: root by UUID on any controller/' "$f"
    change "${f#$R}" "$line" "# $line" "update-grub writes root=UUID= only without GRUB_DISABLE_LINUX_UUID=true; a device name breaks on another controller"
    grub_changed=yes
  done
  case " $cmdline " in
    *" console=ttyS0"*) ;;
    *)
      if [ -d $R/etc/default/grub.d ] || grep -qs 'default/grub.d' $R/usr/sbin/grub-mkconfig; then
        mkdir -p $R/etc/default/grub.d
        printf '# Ferry: the kernel console on the serial port too, so the platform shows the boot.\nGRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX console=tty0 console=ttyS0,115200"\n' > $R/etc/default/grub.d/90-ferry-console.cfg
        change /etc/default/grub.d/90-ferry-console.cfg "GRUB_CMDLINE_LINUX=\"$cmdline\"" "GRUB_CMDLINE_LINUX=\"$cmdline console=tty0 console=ttyS0,115200\"" "the target's console is the serial port; without console=ttyS0 its log shows nothing of the boot"
      else
        sed -i 's/^GRUB_CMDLINE_LINUX="\(.*\)"/GRUB_CMDLINE_LINUX="\1 console=tty0 console=ttyS0,115200"/' $R/etc/default/grub
        change /etc/default/grub "GRUB_CMDLINE_LINUX=\"$cmdline\"" "GRUB_CMDLINE_LINUX=\"$cmdline console=tty0 console=ttyS0,115200\"" "the target's console is the serial port; without console=ttyS0 its log shows nothing of the boot"
      fi
      grub_changed=yes ;;
  esac
fi

# 3. Network: DHCP on whatever NIC the target has, whatever the kernel names it.
replace_if_changed() { # file new-content-file: true when it changed
  cmp -s "$2" "$1" && return 1
  cat "$2" > "$1"
  return 0
}
disable_file() { # file why: renamed, so that its tool no longer reads it
  mv "$R$1" "$R$1.ferry-disabled"
  change "$1" "$2" "disabled (renamed to $1.ferry-disabled)" "$3"
}
networkd=""
for c in /lib/systemd/systemd-networkd /usr/lib/systemd/systemd-networkd; do [ -e "$R$c" ] && networkd=$c; done
net_tools=" $(tr '\n' ' ' < $W/net-tools) "
dhcp_file=/etc/systemd/network/90-ferry-dhcp.network
if [ -e $R/usr/sbin/netplan ] && case "$net_tools" in *" netplan "*) true ;; *) false ;; esac; then
  for f in $R/etc/netplan/*.yaml; do
    [ "${f#$R}" = /etc/netplan/90-ferry-dhcp.yaml ] && continue
    grep -qE 'addresses:|macaddress:|set-name:' "$f" && disable_file "${f#$R}" "$(grep -E 'addresses:|macaddress:|set-name:' "$f" | sed 's/^ *//' | tr '\n' ';')" "static addresses and names of the source's NICs do not exist on the target"
  done
  printf '# Ferry Machine Converter: DHCP on the target'"'"'s NIC, whatever the kernel names it.\nnetwork:\n  version: 2\n  ethernets:\n    ferry-nic:\n      match:\n        name: "e*"\n      dhcp4: true\n' > $W/netplan
  if replace_if_changed $R/etc/netplan/90-ferry-dhcp.yaml $W/netplan; then
    chmod 600 $R/etc/netplan/90-ferry-dhcp.yaml
    change /etc/netplan/90-ferry-dhcp.yaml "(none)" "DHCP on e* (ethernets.ferry-nic)" "the target gives its address by DHCP to a NIC of another name"
  fi
elif [ -n "$networkd" ]; then
  for f in $R/etc/network/interfaces $R/etc/network/interfaces.d/*; do
    [ -f "$f" ] || continue
    awk -v C=$W/commented '
      function out(l) { print "#ferry# " l; printf "%s; ", l > C }
      /^[[:space:]]*#/ { print; next }
      $1 == "iface" { inif = ($2 != "lo"); if (inif) out($0); else print; next }
      $1 == "auto" || $1 ~ /^allow-/ {
        keep = ""; drop = 0
        for (i = 2; i <= NF; i++) if ($i == "lo") keep = keep " " $i; else drop = 1
        if (!drop) { print; next }
        if (keep != "") print $1 keep
        out($0); inif = 0; next }
      $1 == "mapping" || $1 ~ /^source/ || $1 == "rename" { inif = 0; print; next }
      inif && NF > 0 { out($0); next }
      { print }' "$f" > $W/interfaces.new
    if [ -s $W/commented ] && replace_if_changed "$f" $W/interfaces.new; then
      change "${f#$R}" "$(sed 's/; $//' $W/commented)" "commented out (#ferry#); systemd-networkd does DHCP" "ifupdown's stanzas name the source's NIC (and its static address), which the target does not have"
    fi
    rm -f $W/commented
  done
  for f in $R/etc/systemd/network/*.network; do
    [ -f "$f" ] && [ "${f#$R}" != $dhcp_file ] || continue
    grep -qE '^(Address|MACAddress)=' "$f" && disable_file "${f#$R}" "$(grep -E '^(Name|MACAddress|Address|Gateway)=' "$f" | tr '\n' ' ')" "a static address or a MAC of the source's NIC"
  done
  printf '# Ferry Machine Converter: DHCP on the target'"'"'s NIC, whatever the kernel names it.\n[Match]\nName=en* eth*\n\n[Network]\nDHCP=ipv4\n' > $W/dhcp.network
  mkdir -p $R/etc/systemd/network
  if replace_if_changed $R$dhcp_file $W/dhcp.network; then
    change $dhcp_file "(none)" "[Match] Name=en* eth*, [Network] DHCP=ipv4" "the target gives its address by DHCP to a NIC whose name the source never had"
  fi
  state=$(unit_state systemd-networkd.service)
  if [ "$state" != enabled ]; then
    inguest systemctl enable systemd-networkd.service >/dev/null 2>&1 || finish failed "systemctl enable systemd-networkd.service failed in the guest"
    change /etc/systemd/system/multi-user.target.wants/systemd-networkd.service "systemd-networkd.service ${state:-not enabled}" "enabled" "systemd-networkd applies $dhcp_file"
  fi
elif case "$net_tools" in *NetworkManager*|*ifcfg*) true ;; *) false ;; esac; then
  for f in $R/etc/NetworkManager/system-connections/*; do
    [ -f "$f" ] || continue
    grep -qE '^(method=manual|interface-name=|mac-address=)' "$f" || continue
    before=$(grep -E '^(interface-name|mac-address|method|address[0-9]*)=' "$f" | tr '\n' ' ')
    sed -i -e '/^interface-name=/d' -e '/^mac-address=/d' -e '/^address[0-9]*=/d' -e '/^gateway=/d' -e 's/^method=manual/method=auto/' "$f"
    change "${f#$R}" "$before" "method=auto, no interface name or MAC" "NetworkManager brings up the target's NIC by DHCP whatever its name"
  done
  for f in $R/etc/sysconfig/network-scripts/ifcfg-*; do
    [ -f "$f" ] && [ "${f##*/}" != ifcfg-lo ] || continue
    grep -qE '^(BOOTPROTO="?(none|static)|HWADDR=|IPADDR)' "$f" || continue
    before=$(grep -E '^(DEVICE|HWADDR|BOOTPROTO|IPADDR|PREFIX|NETMASK|GATEWAY)' "$f" | tr '\n' ' ')
    sed -i -e 's/^BOOTPROTO=.*/BOOTPROTO=dhcp/' -e 's/^\(HWADDR=\|MACADDR=\|IPADDR\|PREFIX\|NETMASK\|GATEWAY\)/#ferry# \1/' "$f"
    change "${f#$R}" "$before" "BOOTPROTO=dhcp, address and MAC commented out" "the target gives its address by DHCP"
  done
else
  note "no network tool the converter can set to DHCP (netplan, systemd-networkd, NetworkManager, ifcfg): the network is left as it was"
fi

# 4. Naming rules bound to the source's NICs (MAC, driver, slot): the target's NIC has none of them.
while IFS='	' read -r file what name; do
  [ -e "$R$file" ] || continue
  disable_file "$file" "$what -> $name" "it names a NIC by what only the source's NIC has ($what)"
done < $W/rules

# 5. The source hypervisor's tools: masked, they would wait for a hypervisor that is not there.
for t in $hypervisor; do
  case $t in
    open-vm-tools) units="open-vm-tools.service vmtoolsd.service vgauth.service vgauthd.service" ;;
    vmware-tools) units="vmware-tools.service vmware-tools-thinprint.service" ;;
    hyperv-daemons) units="hv-kvp-daemon.service hv-vss-daemon.service hv-fcopy-daemon.service hypervkvpd.service hypervvssd.service hypervfcopyd.service hv_kvp_daemon.service hv_vss_daemon.service hv_fcopy_daemon.service" ;;
  esac
  for u in $units; do
    path=$(unit_file $u) || continue
    # An alias (vmtoolsd.service -> open-vm-tools.service) goes with the unit it names.
    [ -L "$R$path" ] && [ "$(readlink "$R$path")" != /dev/null ] && continue
    state=$(unit_state $u)
    [ "$state" = masked ] && continue
    inguest systemctl mask $u >/dev/null 2>&1 || finish failed "systemctl mask $u failed in the guest"
    change /etc/systemd/system/$u "$u ${state:-present}" "masked" "$t belongs to the source's hypervisor"
  done
done

# 6. The first-boot hook stays: cloud-init, or the sandbox's ferry-guest agent.
for hook in $hooks; do
  case $hook in
    cloud-init)
      if [ -e $R/etc/cloud/cloud-init.disabled ]; then disable_file /etc/cloud/cloud-init.disabled "cloud-init disabled" "cloud-init applies the target's keys and user data on the first boot"; fi
      units="cloud-init-local.service cloud-init.service cloud-config.service cloud-final.service" ;;
    *) units=$hook ;;
  esac
  for u in $units; do
    unit_file $u >/dev/null || continue
    state=$(unit_state $u)
    case "$state" in enabled|static|alias|enabled-runtime) continue ;; esac
    inguest systemctl enable $u >/dev/null 2>&1 || finish failed "systemctl enable $u failed in the guest"
    change /etc/systemd/system/multi-user.target.wants/$u "$u ${state:-not enabled}" "enabled" "the first-boot hook applies the target's settings"
  done
done
[ -n "$hooks" ] || note "no first-boot hook in the guest (no cloud-init, no ferry-guest.service): nothing will apply the target's keys or user data"

# 7. The target's drivers in every initramfs, by the guest's own tool.
case "$tool" in
  initramfs-tools)
    list=$R/etc/initramfs-tools/modules
    listed=" $(sed 's/#.*//' $list 2>/dev/null | awk 'NF { print $1 }' | tr '\n' ' ')"
    add=""
    for d in $drivers; do
      case "$listed" in *" $d "*) continue ;; esac
      for v in $(cat $W/kernel-versions); do [ "$(availability "$v" $d)" = module ] && { add="$add $d"; break; }; done
    done
    if [ -n "$add" ]; then
      printf '# Ferry Machine Converter: the %s target'"'"'s disk and NIC drivers.\n' "$platform" >> $list
      for d in $add; do echo $d >> $list; done
      change /etc/initramfs-tools/modules "$(echo $listed)" "$(echo $listed $add)" "initramfs-tools puts the listed modules in every initramfs it builds; the target's disk driver must be there to find the root"
    fi
    if [ -n "$add" ] || [ -n "$(initramfs_needs)" ]; then
      step "update-initramfs -u -k all"
      echo "FERRY-CONVERT-TOOL update-initramfs -u -k all"
      inguest update-initramfs -u -k all > $W/initramfs.log 2>&1 || finish failed "update-initramfs failed: $(tail -n 3 $W/initramfs.log | tr '\n' ' ')"
      regenerated=yes
    fi ;;
  dracut)
    conf=/etc/dracut.conf.d/90-ferry-$platform.conf
    want="add_drivers+=\" $drivers \""
    if [ "$(cat $R$conf 2>/dev/null | grep -v '^#')" != "$want" ]; then
      mkdir -p $R/etc/dracut.conf.d
      printf '# Ferry Machine Converter: the %s target'"'"'s disk and NIC drivers.\n%s\n' "$platform" "$want" > $R$conf
      change $conf "(none)" "$want" "dracut puts add_drivers in every initramfs it builds; the target's disk driver must be there to find the root"
    fi
    if [ -n "$(initramfs_needs)" ]; then
      for v in $(cat $W/kernel-versions); do
        initrd=$(initrd_of "$v")
        [ -n "$initrd" ] || initrd=/boot/initramfs-$v.img
        step "dracut for $v"
        echo "FERRY-CONVERT-TOOL dracut --force --kver $v $initrd"
        inguest dracut --force --kver "$v" "$initrd" > $W/initramfs.log 2>&1 || finish failed "dracut failed for $v: $(tail -n 3 $W/initramfs.log | tr '\n' ' ')"
      done
      regenerated=yes
    fi ;;
esac
if [ "$regenerated" = yes ]; then
  for v in $(cat $W/kernel-versions); do
    initrd=$(initrd_of "$v")
    [ -n "$initrd" ] || for c in /boot/initrd.img-$v /boot/initramfs-$v.img; do [ -e "$R$c" ] && initrd=$c; done
    before=""; after=""
    for d in $drivers; do [ "$(availability "$v" $d)" = module ] && [ "$(in_initramfs "$v" $d)" != true ] && before="$before $d"; done
    list_initramfs "$initrd" > "$W/initramfs-$v.list" 2>/dev/null
    for d in $drivers; do
      [ "$(availability "$v" $d)" = builtin ] && continue
      [ "$(in_initramfs "$v" $d)" = true ] && after="$after $d" || missing="$missing $d($v)"
    done
    if [ -n "$before" ]; then before="without$before"; else before="with all of them already"; fi
    change "$initrd" "$before" "with$after" "rebuilt by the guest's $tool so the kernel can load the target's drivers before it looks for its root"
  done
  [ -z "$missing" ] || finish failed "after the rebuild the initramfs still lacks$missing"
fi

# 8. grub.cfg: regenerated by the guest's own update-grub, which reads the settings above.
if [ "$bl" = grub2 ]; then
  case " $(root_argument "$R$cfg") " in *" UUID="*|*" LABEL="*) stable=yes ;; *) stable=no ;; esac
  grep -qE '^[[:space:]]*linux.* console=ttyS0' "$R$cfg" || stable=no
  if [ $grub_changed = yes ] || [ $stable = no ]; then
    old=$(root_argument "$R$cfg")
    step "regenerating $cfg"
    if [ -e $R/usr/sbin/update-grub ]; then gen="update-grub"
    elif [ -e $R/usr/sbin/grub2-mkconfig ]; then gen="grub2-mkconfig -o $cfg"
    else gen="grub-mkconfig -o $cfg"
    fi
    if inguest $gen > $W/grub.log 2>&1 && case "$(root_argument "$R$cfg")" in UUID=*|LABEL=*) true ;; *) false ;; esac; then
      change "$cfg" "root=$old" "root=$(root_argument "$R$cfg") (regenerated by $gen)" "the bootloader must name the root file system, not the source's device, and start the kernel with the serial console"
    else
      note "$gen failed ($(tail -n 2 $W/grub.log | tr '\n' ' ')): root= and console= edited in $cfg by hand"
      sed -i -e "/^[[:space:]]*linux/s|root=$old|root=UUID=$rootuuid|" -e '/^[[:space:]]*linux/{/console=ttyS0/!s/$/ console=ttyS0,115200/}' "$R$cfg"
      change "$cfg" "root=$old" "root=UUID=$rootuuid (edited by hand)" "the bootloader must name the root file system, not the source's device"
    fi
  fi
fi

step "converted"
sync
finish ok "$changes changes"
"""#
}
