#!/usr/bin/env python3
"""Seeds fuzz/corpus/<target>/ from the golden captures in tests/golden (idempotent)."""
import glob, hashlib, os, re

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(HERE, "..", "tests", "golden")


def put(target, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


def multibulk(args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


resps = sorted(glob.glob(os.path.join(GOLDEN, "resp", "*", "*.resp")))
resps += sorted(glob.glob(os.path.join(GOLDEN, "events", "*.resp")))
for f in resps:
    data = open(f, "rb").read()
    put("link_reply", data[:4096])
    # The command from the file name: 004-sentinel-myid -> SENTINEL MYID.
    name = os.path.basename(f).split(".")[0]
    words = name.split("-")[1:]
    if words:
        put("request_parser", b"\x00" + multibulk(words))
        put("request_parser", b"\x01" + " ".join(words).encode() + b"\r\n")
    text = data.decode("latin-1")
    for chunk in text.split("# Server")[1:]:
        if "role:" in chunk:
            put("info_parse", "# Server" + chunk.split("\r\n\r\n*")[0])
put("request_parser", b"\x00*3\r\n$8\r\nSENTINEL\r\n$3\r\nSET\r\n$1\r\nm\r\n" + b"PING \"a\\x00b\" 'c'\r\n")
put("request_parser", b"\x01*1048577\r\n")

hellos = []
for f in glob.glob(os.path.join(GOLDEN, "hello", "*.log")):
    for line in open(f, encoding="latin-1"):
        m = re.match(r"\d+ __sentinel__:hello (.*)", line.strip())
        if m:
            hellos.append(m.group(1))
for i in range(0, len(hellos), 4):
    put("hello", "\0".join(hellos[i : i + 4]))

users = []
for f in sorted(glob.glob(os.path.join(GOLDEN, "conf", "*.conf"))):
    text = open(f, encoding="latin-1").read()
    put("config_roundtrip", text.replace("/tmp/sg/", "/tmp/"))
    for line in text.splitlines():
        if line.startswith("user "):
            users.append(" ".join(line.split()[2:]))
for u in set(users):
    put("acl_rules", u)
for u in ["on >pw ~* &* +@all", "on nopass -@all +sentinel|get-master-addr-by-name +ping",
          "on #" + "a" * 64 + " resetchannels &chan* %R~k* (+get ~x) -debug"]:
    put("acl_rules", u)
# core_events reads its choices from the input: any bytes are a valid start.
for i in range(8):
    put("core_events", bytes((i * 37 + k * 11) % 256 for k in range(64 * (i + 1))))
print("seeded", {t: len(os.listdir(os.path.join(HERE, "corpus", t))) for t in os.listdir(os.path.join(HERE, "corpus"))})
