"""Pages of the live room: the call, the pre-call test, a guest's link (thin views)."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from clinics.models import User
from consults.room.access import RoomDenied, room_participant
from consults.room.services import guest_invite_from_token


@login_required
def room(request: HttpRequest, id: str) -> HttpResponse:
    assert isinstance(request.user, User)
    try:
        participant = room_participant(consultation_id=id, user=request.user)
    except RoomDenied as denied:
        if denied.close_code == 4404:
            raise Http404 from denied
        return render(request, "frontend/room/denied.html", {"code": denied.code}, status=403)
    return render(
        request,
        "frontend/room/room.html",
        {"consult": participant.consultation, "role": participant.role, "guest_token": ""},
    )


@login_required
def precall(request: HttpRequest) -> HttpResponse:
    return render(request, "frontend/room/precall.html")


def guest(request: HttpRequest, token: str) -> HttpResponse:
    invite = guest_invite_from_token(token)
    if invite is None:
        raise Http404
    return render(
        request,
        "frontend/room/room.html",
        {"consult": invite.consultation, "role": "guest", "guest_token": token},
    )
