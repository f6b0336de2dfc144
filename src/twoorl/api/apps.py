"""``/api/v1/apps``: registering a client application."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from twoorl.api import schemas
from twoorl.api.auth import any_grant, counted
from twoorl.api.params import Params
from twoorl.oauth import service as oauth
from twoorl.oauth.models import Grant
from twoorl.runtime.http import ServicesDep

router = APIRouter(prefix="/api/v1/apps", tags=["apps"])


@router.post("", response_model=schemas.RegisteredApplication, dependencies=[Depends(counted)])
async def create_app(request: Request, svc: ServicesDep) -> schemas.RegisteredApplication:
    params = await Params.read(request)
    app, secret = await oauth.register_app(
        svc.shards,
        name=params.text("client_name", "", max_length=1000),
        redirect_uris="\n".join(params.texts("redirect_uris", max_items=11)),
        scopes=params.text("scopes", max_length=1000),
        website=params.text("website", max_length=2000),
    )
    return schemas.RegisteredApplication(
        id=str(app.id),
        name=app.name,
        website=app.website,
        redirect_uri="\n".join(app.redirect_uris),
        redirect_uris=list(app.redirect_uris),
        scopes=sorted(app.scopes),
        client_id=app.client_id,
        client_secret=secret,
        vapid_key="",
    )


@router.get("/verify_credentials", response_model=schemas.Application)
async def verify_app(svc: ServicesDep, grant: Grant = any_grant()) -> schemas.Application:
    app = await oauth.app_by_id(svc.shards, grant.app_id)
    return schemas.Application(name=app.name if app else "", website=app.website if app else None)
