from tests.helpers import login, make_id, register


def test_register_and_login(client, outbox):
    id_number = make_id()
    response = register(client, outbox, id_number, "13800001111")
    assert response.status_code == 303, response.get_data(as_text=True)
    client.post("/logout")
    response = login(client, id_number)
    assert response.status_code == 303
    home = client.get("/home", follow_redirects=True)
    assert "张三" in home.get_data(as_text=True)
