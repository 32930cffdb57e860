"""REST/JSON edge gateway: google.api.http transcoding to the gRPC mesh."""
