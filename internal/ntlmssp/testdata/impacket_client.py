"""NTLM client side of impacket_test.go, built from impacket's own ntlm and
spnego modules the way impacket's SMB client logs in.

Usage: impacket_client.py v2|v1 USER PASSWORD DOMAIN
Reads hex lines on stdin (server greeting, SPNEGO-wrapped CHALLENGE, final
NegTokenResp) and answers each with one JSON line on stdout.
"""
import json
import sys

from impacket import ntlm
from impacket.spnego import MechTypes, SPNEGO_NegTokenInit, SPNEGO_NegTokenResp, TypesMech


def read():
    return bytes.fromhex(sys.stdin.readline().strip())


def say(**kw):
    print(json.dumps(kw), flush=True)


def main():
    mode, user, password, domain = sys.argv[1:5]

    greeting = SPNEGO_NegTokenInit(read())
    mechs = [MechTypes.get(m, m.hex()) for m in greeting['MechTypes']]

    type1 = ntlm.getNTLMSSPType1('', '', signingRequired=True)
    init = SPNEGO_NegTokenInit()
    init['MechTypes'] = [TypesMech['NTLMSSP - Microsoft NTLM Security Support Provider']]
    init['MechToken'] = type1.getData()
    say(mechs=mechs, negotiate=init.getData().hex())

    resp = SPNEGO_NegTokenResp(read())
    type2 = resp['ResponseToken']
    challenge = ntlm.NTLMAuthChallenge(type2)
    av = ntlm.AV_PAIRS(challenge['TargetInfoFields'])
    names = {str(k): av[k][1].decode('utf-16le') for k in (1, 2, 3, 4, 5) if av[k] is not None}

    type3, _ = ntlm.getNTLMSSPType3(type1, type2, user, password, domain, use_ntlmv2=(mode == 'v2'))
    final = SPNEGO_NegTokenResp()
    final['ResponseToken'] = type3.getData()
    say(
        neg_state=resp['NegState'].hex(),
        supported_mech=MechTypes.get(resp['SupportedMech'], ''),
        flags=challenge['flags'],
        target_name=challenge['domain_name'].decode('utf-16le'),
        names=names,
        timestamp=av[7][1].hex() if av[7] is not None else '',
        authenticate=final.getData().hex(),
    )

    verdict = SPNEGO_NegTokenResp(read())
    say(neg_state=verdict['NegState'].hex())


main()
