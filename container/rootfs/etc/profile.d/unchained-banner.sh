# Sourced by /etc/profile in the job image. An interactive login shell of a
# notebook job (a Jupyter terminal) says what the job asked HTCondor for. Prints
# nothing in scripts or outside a job, so the job's own `bash -l` stays silent.
# POSIX sh; the job ad is only read, never evaluated.

# "$1" if it is a plain integer, else "unknown": an ad value may be an
# expression. At most 15 digits, so the arithmetic below cannot overflow; no
# leading zero, which shells would read as octal.
_unchained_banner_integer() {
    case $1 in
        '' | *[!0-9]* | 0?* | ????????????????*) echo unknown ;;
        *) echo "$1" ;;
    esac
}

_unchained_banner() {
    _ub_cpus='' _ub_memory='' _ub_disk='' _ub_cluster='' _ub_proc=''
    # (The test after || keeps a last line that has no newline.)
    while IFS= read -r _ub_line || [ -n "$_ub_line" ]; do
        case $_ub_line in
            'RequestCpus = '*) _ub_cpus=${_ub_line#* = } ;;
            'RequestMemory = '*) _ub_memory=${_ub_line#* = } ;;
            'RequestDisk = '*) _ub_disk=${_ub_line#* = } ;;
            'ClusterId = '*) _ub_cluster=${_ub_line#* = } ;;
            'ProcId = '*) _ub_proc=${_ub_line#* = } ;;
        esac
    done < "$_CONDOR_JOB_AD"
    _ub_cpus=$(_unchained_banner_integer "$_ub_cpus")
    _ub_memory=$(_unchained_banner_integer "$_ub_memory")
    _ub_disk=$(_unchained_banner_integer "$_ub_disk")
    _ub_cluster=$(_unchained_banner_integer "$_ub_cluster")
    _ub_proc=$(_unchained_banner_integer "$_ub_proc")
    # RequestDisk is in KiB; shown in GB with one decimal, rounded.
    if [ "$_ub_disk" != unknown ]; then
        _ub_disk=$(( (_ub_disk * 10 + 524288) / 1048576 ))
        _ub_disk="$((_ub_disk / 10)).$((_ub_disk % 10))"
    fi
    _ub_job=unknown
    if [ "$_ub_cluster" != unknown ] && [ "$_ub_proc" != unknown ]; then
        _ub_job="$_ub_cluster.$_ub_proc"
    fi
    echo "You requested $_ub_cpus core(s), $_ub_memory MB RAM and $_ub_disk GB disk space" \
        "for this session (HTCondor job $_ub_job)."
    unset _ub_line _ub_cpus _ub_memory _ub_disk _ub_cluster _ub_proc _ub_job
}

case $- in
    *i*)
        if [ -n "${_CONDOR_JOB_AD-}" ] && [ -f "$_CONDOR_JOB_AD" ] && [ -r "$_CONDOR_JOB_AD" ]; then
            _unchained_banner
        fi
        ;;
esac
unset -f _unchained_banner _unchained_banner_integer
