import sys, time
sys.path.insert(0, "/work/main/tests/e2e")
from vault_helpers import *

def test_smoke(make_server):
    s = make_vault_server(make_server)
    api = VaultAPI(s)
    cid, cb = connect(s, api)
    st = api.status(cid)
    print(st)
    tok = api.access_token(cid)
    print(tok)
    r = me(s, UP, tok["access_token"])
    print(r.status_code, r.text)
    time.sleep(6)
    print(api.status(cid))
    tok2 = api.access_token(cid)
    assert tok2["access_token"] != tok["access_token"]
    print(len(refresh_grants(s)))
    print(s.log_tail(30))
